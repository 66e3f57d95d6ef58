"""What a shared-teacher group costs: ``python -m ats_ms.bench --students 1,2,4,8`` (this module does the
measuring, each K in a worker process: ``ats_ms.benchmark.worker students``).

For one teacher:student pair and K students, in GRAPH mode on synthetic CIFAR-sized inputs, after
warm-up: the median time of one group step (one teacher forward, K student forwards and backwards, one
update of all K students), the time per student-step (step / K), and the process's peak memory.  Each K
runs in a process of its own, so the peak memory is that K's alone.  The speed-up over separate runs is
K x (the K = 1 step) / (the K step): what a grid of K points costs against K separate runs.
"""
from ats_ms.benchmark.processes import run_worker
from ats_ms.benchmark.timing import first_call_s, median_ms, peak_rss_mb, synthetic_batch, train_step


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
            row = run_worker("students", {"pair": [teacher, student], "students": k, "batch": batch, "classes": classes,
                                          "size": size, "steps": steps, "reps": reps, "warmup": warmup,
                                          "device": device, "conv": conv}, what=f"{teacher}->{student} K={k}")
            if k == 1:
                base = row["group_step_ms"]
            if base:
                row["separate_runs_ms"] = round(k * base, 1)
                row["speedup_vs_separate"] = round(k * base / row["group_step_ms"], 2)
                row["cost_vs_separate"] = round(row["group_step_ms"] / (k * base), 3)
            rows.append(row)
            print(f"{teacher + ' -> ' + student:28s} {row['conv']:>7s} K={k:<2d} group step {row['group_step_ms']:8.1f} "
                  f"ms  per student {row['per_student_step_ms']:7.1f} ms  vs separate "
                  f"x{row.get('speedup_vs_separate', float('nan')):.2f}  compile {row['compile_s']:5.1f} s  warm-up "
                  f"{row['warmup_steps']} steps{'' if row['steady'] else ' (not steady)'}  peak {row['peak_rss_mb']} MB",
                  flush=True)
    return rows
