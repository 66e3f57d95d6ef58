"""The MindSpore measurements of ``python -m ats_ms.bench``, run inside one worker process per convolution.

For a teacher:student pair and batch size, in GRAPH mode, on synthetic CIFAR-sized inputs (so only compute is
timed), after warm-up, the median over repetitions of: ``ce`` (one student training step with cross-entropy
only), ``teacher`` (one frozen-teacher forward pass), ``kd`` (one ATS distillation step: teacher forward +
student forward/backward + update) and ``cached_kd`` (the same step from precomputed teacher logits), with the
first call's time as the compile time; and the input pipeline's throughput.
"""
import numpy as np

from ats_ms.benchmark.timing import first_call_s, median_ms, peak_rss_mb, synthetic_batch, train_step


def bench_pair(teacher_arch, student_arch, batch, classes, size, steps, reps, warmup, fold_bn=True):
    from ats_ms.distill import FrozenTeacher, LossNet  # pylint: disable=import-outside-toplevel
    from ats_ms.losses import ATSLoss  # pylint: disable=import-outside-toplevel
    from ats_ms.losses.ce import CELoss  # pylint: disable=import-outside-toplevel
    from ats_ms.models import create_model  # pylint: disable=import-outside-toplevel

    x, y = synthetic_batch(batch, classes, size)

    def timed(loss_net, student, *inputs):
        step = train_step(loss_net, student.trainable_params())
        return lambda: step(x, y, *inputs)[0].asnumpy()

    student_ce = create_model(student_arch, classes)
    ce = timed(LossNet([student_ce], [CELoss()]), student_ce)
    teacher = FrozenTeacher(create_model(teacher_arch, classes), fold_bn=fold_bn)
    infer = lambda: teacher(x).asnumpy()  # noqa: E731
    student_kd = create_model(student_arch, classes)
    kd = timed(LossNet([student_kd], [ATSLoss(4.0, 2.0)], teacher), student_kd)
    student_cached = create_model(student_arch, classes)
    cached = timed(LossNet([student_cached], [ATSLoss(4.0, 2.0)], cached=True), student_cached, teacher(x))
    row = {"teacher": teacher_arch, "student": student_arch, "batch": batch, "teacher_bn_folded": fold_bn}
    for name, fn in (("ce", ce), ("teacher", infer), ("kd", kd), ("cached_kd", cached)):
        row[f"{name}_compile_s"] = round(first_call_s(fn), 2)
        ms_per_step, used, steady = median_ms(fn, steps, reps, warmup)
        row[f"{name}_ms"] = round(ms_per_step, 1)
        row[f"{name}_warmup_steps"] = used
        row[f"{name}_steady"] = steady
        row[f"{name}_img_s"] = round(batch / ms_per_step * 1000, 1)
    row["overhead"] = round(row["kd_ms"] / (row["ce_ms"] + row["teacher_ms"]), 3)
    row["peak_rss_mb"] = round(peak_rss_mb())
    return row


def bench_pipeline(batch, size=32, images=4096, batches=60):
    from ats_ms.data.cifar import array_dataset  # pylint: disable=import-outside-toplevel
    from ats_ms.data.throughput import pipeline_throughput  # pylint: disable=import-outside-toplevel
    from ats_ms.data.transforms import image_ops  # pylint: disable=import-outside-toplevel
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (images, size, size, 3), dtype=np.uint8)
    y = rng.randint(0, 100, images).astype(np.int32)
    data = array_dataset(x, y, ds.RandomSampler(), 2)
    data = data.map(image_ops(size, (0.5,) * 3, (0.25,) * 3, train=True), input_columns="image",
                    num_parallel_workers=2).batch(batch, drop_remainder=True).repeat(20)
    return round(pipeline_throughput(data, batches), 1)


