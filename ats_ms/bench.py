"""``python -m ats_ms.bench``: what a distillation step costs, measured.

    python -m ats_ms.bench --pairs resnet110:vgg8,resnet32x4:resnet8x4 --batch-sizes 64 [--torch] [--output bench.json]

For each teacher:student pair and batch size, in GRAPH mode, on synthetic CIFAR-sized inputs (so only
compute is timed), after warm-up, the median over ``--reps`` repetitions of ``--steps`` steps of:

- ``ce``: one student training step with cross-entropy only;
- ``teacher``: one frozen-teacher forward pass;
- ``kd``: one ATS distillation step (teacher forward + student forward/backward + update);
- ``cached_kd``: the same step from precomputed teacher logits (``distill.cache_teacher_logits``);

with the first call's time as the compile time, and the overhead ratio kd / (ce + teacher), whose floor
is 1.0.  Also the input pipeline (augmentation + batching of CIFAR-sized uint8 images, the python-format
code path) and the process's peak memory.  ``--torch`` times the same KD step written in PyTorch
(``ats_ms.interop.torch_reference`` networks, the same ATS loss) in the same process.
"""
import argparse
import json
import sys

import numpy as np

from ats_ms.bench_timing import first_call_s, median_ms, peak_rss_mb, run_record, synthetic_batch, train_step
from ats_ms import cpu_conv
from ats_ms.cli import run_cli
from ats_ms.errors import ConfigError
from ats_ms.optional import require


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


def bench_torch(teacher_arch, student_arch, batch, classes, size, steps, reps, warmup):
    """The same ATS step in PyTorch: teacher in eval mode under no_grad, SGD momentum 0.9, wd 5e-4."""
    torch = require("torch", "bench --torch")
    F = torch.nn.functional
    from ats_ms.interop.torch_reference import build_torch_model  # pylint: disable=import-outside-toplevel
    torch.manual_seed(0)
    teacher = build_torch_model(teacher_arch, classes).eval()
    student = build_torch_model(student_arch, classes).train()
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, classes, (batch,))
    onehot = F.one_hot(y, classes).float()
    tau = 2.0 + 2.0 * onehot  # tau_target 4, tau_wrong 2

    def step():
        with torch.no_grad():
            p = F.softmax(teacher(x) / tau, dim=1)
        logits = student(x)
        loss = 0.5 * F.cross_entropy(logits, y) + 0.5 * (-(p * F.log_softmax(logits, dim=1)).sum(1).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    ms_per_step, used, steady = median_ms(step, steps, reps, warmup)
    return {"torch_kd_ms": round(ms_per_step, 1), "torch_kd_img_s": round(batch / ms_per_step * 1000, 1),
            "torch_kd_warmup_steps": used, "torch_kd_steady": steady,
            "torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default="resnet110:vgg8,resnet32x4:resnet8x4", help="TEACHER:STUDENT,...")
    parser.add_argument("--batch-sizes", default="64")
    parser.add_argument("--num-classes", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="steps per repetition")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3,
                        help="minimum warm-up steps; warm-up goes on until two consecutive step times agree within "
                             "10 %% (reported per measurement)")
    parser.add_argument("--device", default="CPU", choices=("CPU", "GPU", "Ascend"))
    parser.add_argument("--no-fold-bn", action="store_true", help="keep the teacher's BatchNorm layers (to compare)")
    parser.add_argument("--torch", action="store_true", help="also time the same step in PyTorch")
    parser.add_argument("--conv", default="both", choices=("both", "builtin", "onednn"),
                        help="CPU convolution(s) to time: both (default; the built-in and ats_ms's oneDNN one, "
                             "when it can be had here), builtin or onednn")
    parser.add_argument("--students", help="K1,K2,...: time shared-teacher groups of K students instead "
                                           "(ats_ms.bench_students; one process per K)")
    parser.add_argument("--output", help="write the results as JSON")
    args = parser.parse_args(argv)
    try:
        pairs = [tuple(p.split(":")) for p in args.pairs.split(",")]
        batches = [int(b) for b in args.batch_sizes.split(",")]
        assert all(len(p) == 2 for p in pairs) and all(b > 0 for b in batches)
    except (ValueError, AssertionError):
        raise ConfigError("--pairs must look like resnet110:vgg8,resnet32x4:resnet8x4 and --batch-sizes like "
                          "64,128.") from None
    if args.students:
        return _bench_students(args, pairs, batches, argv)
    from ats_ms.gpu_libs import prepare_for  # pylint: disable=import-outside-toplevel
    prepare_for(args.device)  # before MindSpore loads its device plugins
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(args.device)
    convs = _convolutions(args.conv, args.device)
    rows = []
    header = (f"{'teacher -> student':28s} {'batch':>5s} {'conv':>7s} {'CE ms':>8s} {'teacher ms':>10s} {'KD ms':>8s} "
              f"{'KD img/s':>9s} {'overhead':>8s} {'cached ms':>9s} {'compile s':>9s} {'warm-up':>7s} {'peak MB':>8s}"
              + (f" {'torch KD ms':>11s} {'ms/torch':>8s}" if args.torch else ""))
    print(header)
    for teacher, student in pairs:
        for batch in batches:
            torch_row = {}
            if args.torch:
                torch_row = bench_torch(teacher, student, batch, args.num_classes, args.image_size, args.steps,
                                        args.reps, args.warmup)
            for conv in convs:
                cpu_conv.select(conv, args.device)
                row = dict(bench_pair(teacher, student, batch, args.num_classes, args.image_size, args.steps,
                                      args.reps, args.warmup, fold_bn=not args.no_fold_bn), conv=conv)
                if args.torch:
                    row.update(torch_row, ms_throughput_vs_torch=round(torch_row["torch_kd_ms"] / row["kd_ms"], 3))
                rows.append(row)
                print(_row_line(row, args.torch), flush=True)
            if len(convs) == 2:
                pair_rows = rows[-2:]
                print(f"{'':28s} {'':5s} oneDNN convolution: KD step {pair_rows[0]['kd_ms'] / pair_rows[1]['kd_ms']:.2f}x "
                      f"the built-in's speed", flush=True)
    pipeline = bench_pipeline(max(batches))
    print(f"input pipeline (augmentation + batch {max(batches)}, 32x32 uint8): {pipeline} images/s")
    print("warm-up: steps run before timing the KD step, until two consecutive steps agreed within 10 % "
          "(! = not steady after the maximum; every measurement's count is in the JSON output)")
    result = dict(run_record(args.device, argv), rows=rows, pipeline_images_per_s=pipeline)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


def _convolutions(requested, device):
    """The CPU convolutions to time: both by default (when ats_ms's can be had here), else the one asked for."""
    if device != "CPU":
        return ["builtin"]
    if requested != "both":
        cpu_conv.select(requested, device)  # an error naming the problem when onednn cannot be had
        return [requested]
    choice = cpu_conv.select("auto", device)
    if not choice.fast:
        print(f"timing the built-in convolution only: {choice.detail}")
        return ["builtin"]
    print(f"convolutions: MindSpore built-in, and {choice.detail}")
    return ["builtin", "onednn"]


def _row_line(row, torch):
    line = (f"{row['teacher'] + ' -> ' + row['student']:28s} {row['batch']:5d} {row['conv']:>7s} {row['ce_ms']:8.1f} "
            f"{row['teacher_ms']:10.1f} {row['kd_ms']:8.1f} {row['kd_img_s']:9.1f} {row['overhead']:8.3f} "
            f"{row['cached_kd_ms']:9.1f} {row['kd_compile_s']:9.2f} "
            f"{row['kd_warmup_steps']:6d}{'' if row['kd_steady'] else '!'} {row['peak_rss_mb']:8d}")
    if torch:
        line += f" {row['torch_kd_ms']:11.1f} {row['ms_throughput_vs_torch']:8.3f}"
    return line


def _bench_students(args, pairs, batches, argv):
    from ats_ms.bench_students import run_all  # pylint: disable=import-outside-toplevel
    try:
        ks = [int(k) for k in args.students.split(",")]
        assert ks and all(k >= 1 for k in ks)
    except (ValueError, AssertionError):
        raise ConfigError(f"--students must look like 1,2,4,8, got '{args.students}'.") from None
    rows = run_all(pairs, ks, batches[0], args.num_classes, args.image_size, args.steps, args.reps, args.warmup,
                   args.device, "auto" if args.conv == "both" else args.conv)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(dict(run_record(args.device, argv), rows=rows), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
