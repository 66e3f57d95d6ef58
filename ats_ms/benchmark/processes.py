"""Starting a benchmark worker (``ats_ms.benchmark.worker``) and reading its one JSON line."""
import json
import subprocess
import sys

from ats_ms.common import signals
from ats_ms.process import _env
from ats_ms.common.errors import AtsError


def run_worker(kind, arguments, what=None):
    """The worker's result (a dict); an AtsError with its last stderr lines when it fails.  Every worker starts
    with the environment the user started this command with (ats_ms's defaults taken out), and makes its own
    choices from there, as a fresh command would."""
    command = [sys.executable, "-m", "ats_ms.benchmark.worker", kind, json.dumps(arguments)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=_env.user_environment(),
                          preexec_fn=signals.child_preexec)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        detail = " ".join(proc.stderr.strip().splitlines()[-6:])[-1500:]
        raise AtsError(f"The benchmark of {what or kind} failed in its worker process (exit code {proc.returncode}): "
                       f"{detail}")
    return json.loads(lines[-1])
