"""``python -m ats_ms.doctor [--device CPU|GPU|Ascend ...]``: can this machine run ats_ms, and if not, why.

Prints the versions (ats_ms, MindSpore, numpy, Python) and the MindSpore backends the installed wheel
carries; the known traps, each as one verdict with its fix (numpy 2 with MindSpore 2.10, the AVX-512
reference-convolution slowdown, every CUDA library the GPU plugin loads, CUDA_HOME/nvcc and the driver,
the CANN environment and Ascend driver); which device targets initialise here; then, for each requested
target (default CPU), one tiny graph-mode training step with cross-entropy and one with ATS, with their
times.  Exit code 0 when every requested target trained, 1 otherwise.
"""
import argparse
import json
import os
import re
import subprocess
import sys

from ats_ms.common import signals
from ats_ms.cli import run_cli
from ats_ms.doctor import checks, package

MARK = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "info": "[info]"}
TARGETS = ("CPU", "GPU", "Ascend")


def _print_section(title, lines):
    """One line per check; a fix is printed once after the run of failed checks that share it."""
    print(f"\n{title}")
    for i, c in enumerate(lines):
        print(f"  {MARK[c.status]} {c.name}: {c.detail}")
        following = lines[i + 1] if i + 1 < len(lines) else None
        if c.status == "fail" and c.fix and not (following and following.status == "fail" and following.fix == c.fix):
            print(f"           fix: {c.fix}")


def run_probe(target, train, timeout=600):
    env = dict(os.environ, GLOG_v=os.environ.get("GLOG_v", "3"))
    args = [sys.executable, "-m", "ats_ms.doctor.probe", target] + (["--train"] if train else [])
    try:
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, check=False,
                              preexec_fn=signals.child_preexec)
    except subprocess.TimeoutExpired:
        return {"target": target, "initialised": False, "trained": False, "error": f"no answer within {timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("DOCTOR-PROBE "):
            return json.loads(line[len("DOCTOR-PROBE "):])
    tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
    return {"target": target, "initialised": False, "trained": False,
            "error": f"the probe process ended with code {proc.returncode}: {tail}"}


def short_error(target, text):
    """One readable line from a probe's error: MindSpore's refusal of a device names every backend library it
    failed to load (the Ascend ones included when GPU was asked); the checks above already list those."""
    text = " ".join(str(text).split())
    match = re.search(r"Unsupported device target (\w+)\. This process only supports one of the \[([^\]]*)\]", text)
    if match:
        available = match[2].replace("'", "") or "none"
        return f"MindSpore could not load its {match[1]} backend (this process can use: {available})"
    first = re.split(r"(?<=[.!?]) | \| ", text)[0]
    return first if len(first) <= 200 else first[:197] + "..."


def describe(result):
    if result.get("trained"):
        return (f"trains: init {result['init_s']} s; CE step {result['ce_step_ms']} ms, ATS step {result['ats_step_ms']} "
                f"ms (resnet8, batch 16, 32x32; first steps with compilation {result['ce_first_step_s']} s / "
                f"{result['ats_first_step_s']} s)" + (f"; convolution: {result['conv']}" if result.get("conv") else ""))
    if result.get("initialised"):
        return f"initialises in {result['init_s']} s" + (
            f", but training failed: {short_error(result['target'], result['error'])}" if result.get("error") else "")
    return f"cannot be used: {short_error(result['target'], result.get('error', 'unknown error'))}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", action="append", choices=TARGETS,
                        help="target that must be able to train (repeatable; default CPU)")
    parser.add_argument("--no-probe", action="store_true",
                        help="only the static checks (no MindSpore process); exit code 1 when one of them fails")
    args = parser.parse_args(argv)
    requested = list(dict.fromkeys(args.device or ["CPU"]))
    version_lines = checks.versions()
    _print_section("versions", version_lines)
    package_lines = [checks.Check(name, status, detail, fix) for status, name, detail, fix in package.check()]
    _print_section("package", package_lines)
    backend_lines = checks.backends()
    _print_section("MindSpore backends", backend_lines)
    static = {"CPU": checks.cpu_traps}
    static["GPU"] = lambda: checks.gpu_toolchain() + checks.gpu_libraries() + checks.nvidia_smi()
    static["Ascend"] = checks.ascend_environment
    titles = {"CPU": "CPU", "GPU": "GPU (CUDA 11 libraries MindSpore's GPU plugin loads)", "Ascend": "Ascend (CANN)"}
    found = {}
    for target in requested:
        found[target] = static[target]()
        _print_section(titles[target], found[target])
    others = [t for t in TARGETS if t not in requested]
    if others:
        print("\nnot checked (ask with --device)")
        for target in others:
            print(f"  {MARK['info']} {target}: python -m ats_ms.doctor --device {target}")
    failed = [c for c in version_lines + package_lines if c.status == "fail"]
    can_train = {t: False for t in requested}
    if not args.no_probe:
        print("\ndevice targets")
        for target in requested:
            result = run_probe(target, train=True)
            can_train[target] = bool(result.get("trained"))
            print(f"  {MARK['ok' if can_train[target] else 'fail']} {target}: {describe(result)}")
    print()
    if failed:
        print(f"verdict: fix the failed {' and '.join(sorted({'version' if c in version_lines else 'package' for c in failed}))} "
              "checks above first.")
    for target in requested:
        if args.no_probe:
            print(f"verdict: {target} not tried (--no-probe).")
        elif can_train[target]:
            print(f"verdict: ats_ms can train on {target} here.")
        else:
            print(f"verdict: ats_ms cannot train on {target} here; the failed checks above say what to fix.")
    if args.no_probe:  # no verdict on training: the exit code tells whether a static check failed
        static_failed = any(c.status == "fail" for t in requested for c in found[t])
        return 1 if failed or static_failed else 0
    return 0 if all(can_train.values()) and not failed else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
