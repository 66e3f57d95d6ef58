"""What a shared-teacher group costs: ``python -m ats_ms.bench --students 1,2,4,8`` (this module does the
measuring).

For one teacher:student pair and K students, in GRAPH mode on synthetic CIFAR-sized inputs, after
warm-up: the median time of one group step (one teacher forward, K student forwards and backwards, one
update of all K students), the time per student-step (step / K), and the process's peak memory.  Each K
runs in a process of its own, so the peak memory is that K's alone.  The speed-up over separate runs is
K x (the K = 1 step) / (the K step): what a grid of K points costs against K separate runs.
"""
import argparse
import json
import subprocess
import sys

from ats_ms import signals
from ats_ms.bench_timing import first_call_s, median_ms, peak_rss_mb, synthetic_batch, train_step


def measure(teacher_arch, student_arch, k, batch, classes, size, steps, reps, warmup, fold_bn=True):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms.distill import FrozenTeacher, LossNet  # pylint: disable=import-outside-toplevel
    from ats_ms.losses import ATSLoss  # pylint: disable=import-outside-toplevel
    from ats_ms.models import create_model  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE)
    x, y = synthetic_batch(batch, classes, size)
    students = [create_model(student_arch, classes) for _ in range(k)]
    losses = [ATSLoss(4.0, 1.0 + i % 4) for i in range(k)]  # a grid: every student its own temperatures
    teacher = FrozenTeacher(create_model(teacher_arch, classes), fold_bn=fold_bn)
    step = train_step(LossNet(students, losses, teacher), [p for s in students for p in s.trainable_params()])
    run = lambda: step(x, y)[0].asnumpy()  # noqa: E731
    compile_s = first_call_s(run)
    step_ms, used, steady = median_ms(run, steps, reps, warmup)
    return {"teacher": teacher_arch, "student": student_arch, "students": k, "batch": batch,
            "group_step_ms": round(step_ms, 1), "per_student_step_ms": round(step_ms / k, 1),
            "warmup_steps": used, "steady": steady,
            "compile_s": round(compile_s, 2), "peak_rss_mb": round(peak_rss_mb())}


def run_all(pairs, ks, batch, classes, size, steps, reps, warmup, device, conv="auto"):
    """Every (pair, K) in its own process; returns rows with the speed-up over separate runs filled in."""
    rows = []
    for teacher, student in pairs:
        base = None
        for k in ks:
            args = [sys.executable, "-m", "ats_ms.bench_students", "--pair", f"{teacher}:{student}", "--students",
                    str(k), "--batch", str(batch), "--num-classes", str(classes), "--image-size", str(size),
                    "--steps", str(steps), "--reps", str(reps), "--warmup", str(warmup), "--device", device,
                    "--conv", conv]
            proc = subprocess.run(args, capture_output=True, text=True, check=False, preexec_fn=signals.child_preexec)
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not line:
                raise RuntimeError(f"benchmark of {teacher}->{student} K={k} failed: {proc.stderr[-1500:]}")
            row = json.loads(line[-1])
            if k == 1:
                base = row["group_step_ms"]
            if base:
                row["separate_runs_ms"] = round(k * base, 1)
                row["speedup_vs_separate"] = round(k * base / row["group_step_ms"], 2)
                row["cost_vs_separate"] = round(row["group_step_ms"] / (k * base), 3)
            rows.append(row)
            print(f"{teacher + ' -> ' + student:28s} {row['conv']:>7s} K={k:<2d} group step {row['group_step_ms']:8.1f} ms  per student "
                  f"{row['per_student_step_ms']:7.1f} ms  vs separate x{row.get('speedup_vs_separate', float('nan')):.2f}"
                  f"  compile {row['compile_s']:5.1f} s  warm-up {row['warmup_steps']} steps"
                  f"{'' if row['steady'] else ' (not steady)'}  peak {row['peak_rss_mb']} MB", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(prog="python -m ats_ms.bench_students")
    parser.add_argument("--pair", required=True)
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--num-classes", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="CPU")
    parser.add_argument("--conv", default="auto", choices=("auto", "builtin", "onednn"))
    args = parser.parse_args()
    from ats_ms.gpu_libs import prepare_for  # pylint: disable=import-outside-toplevel
    prepare_for(args.device)
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ms.set_device(args.device)
    from ats_ms import cpu_conv  # pylint: disable=import-outside-toplevel
    conv = cpu_conv.select(args.conv, args.device).name
    teacher, student = args.pair.split(":")
    print(json.dumps(dict(measure(teacher, student, args.students, args.batch, args.num_classes, args.image_size,
                                  args.steps, args.reps, args.warmup), conv=conv)))


if __name__ == "__main__":
    import ats_ms  # noqa: F401  pylint: disable=unused-import  (CPU defaults before MindSpore loads)
    main()
