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
import subprocess
import sys

from ats_ms import signals
from ats_ms.cli import run_cli
from ats_ms.doctor import checks

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


def describe(result):
    if result.get("trained"):
        return (f"trains: init {result['init_s']} s; CE step {result['ce_step_ms']} ms, ATS step {result['ats_step_ms']} "
                f"ms (resnet8, batch 16, 32x32; first steps with compilation {result['ce_first_step_s']} s / "
                f"{result['ats_first_step_s']} s)")
    if result.get("initialised"):
        return f"initialises in {result['init_s']} s" + (f", but training failed: {result['error']}"
                                                           if result.get("error") else "")
    return f"cannot be used: {result.get('error', 'unknown error')}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", action="append", choices=TARGETS,
                        help="target that must be able to train (repeatable; default CPU)")
    parser.add_argument("--no-probe", action="store_true", help="only the static checks (no MindSpore process)")
    args = parser.parse_args(argv)
    requested = args.device or ["CPU"]
    _print_section("versions", checks.versions())
    backend_lines = checks.backends()
    _print_section("MindSpore backends", backend_lines)
    _print_section("CPU", checks.cpu_traps())
    gpu = checks.gpu_toolchain() + checks.gpu_libraries() + checks.nvidia_smi()
    _print_section("GPU (CUDA 11 libraries MindSpore's GPU plugin loads)", gpu)
    ascend = checks.ascend_environment()
    _print_section("Ascend (CANN)", ascend)
    failed = [c for c in checks.versions() if c.status == "fail"]
    verdicts = {}
    if not args.no_probe:
        present = [name.split()[0] for name in (c.name for c in backend_lines if c.status == "ok")]
        print("\ndevice targets")
        for target in TARGETS:
            if target not in present and target not in requested:
                continue
            static = {"GPU": gpu, "Ascend": ascend}.get(target, [])
            if target not in requested and any(c.status == "fail" for c in static):
                print(f"  [info] {target}: not tried (see the failed checks above)")
                continue
            result = run_probe(target, train=target in requested)
            verdicts[target] = result
            ok = result.get("trained") or (result.get("initialised") and target not in requested)
            print(f"  {MARK['ok' if ok else 'fail' if target in requested else 'info']} {target}: {describe(result)}")
    can_train = {t: bool(verdicts.get(t, {}).get("trained")) for t in requested}
    print()
    if failed:
        print("verdict: fix the failed version checks first.")
    for target in requested:
        if args.no_probe:
            print(f"verdict: {target} not tried (--no-probe).")
        elif can_train[target]:
            print(f"verdict: ats_ms can train on {target} here.")
        else:
            print(f"verdict: ats_ms cannot train on {target} here; the failed checks above say what to fix.")
    return 0 if all(can_train.values()) and not failed and not args.no_probe else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
