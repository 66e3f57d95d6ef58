"""``python -m ats_ms.bench``: what a distillation step costs, measured.

    python -m ats_ms.bench --pairs resnet110:vgg8,resnet32x4:resnet8x4 --batch-sizes 64 [--torch] [--output bench.json]
    python -m ats_ms.bench --pairs resnet20:resnet8 --batch-sizes 128 --students 1,2,4,8

For each teacher:student pair and batch size, in GRAPH mode, on synthetic CIFAR-sized inputs (so only
compute is timed), after warm-up, the median over ``--reps`` repetitions of ``--steps`` steps of:

- ``ce``: one student training step with cross-entropy only;
- ``teacher``: one frozen-teacher forward pass;
- ``kd``: one ATS distillation step (teacher forward + student forward/backward + update);
- ``cached_kd``: the same step from precomputed teacher logits (``distill.cache_teacher_logits``);

with the first call's time as the compile time, and the overhead ratio kd / (ce + teacher), whose floor
is 1.0.  Also the input pipeline (augmentation + batching of CIFAR-sized uint8 images) and the peak memory.

Each CPU convolution (``--conv both``: MindSpore's and ats_ms's oneDNN one) is timed in a process of its own with
the instruction-set cap a training run with it would get (``ats_ms.process.cpu_isa``: AVX2 for MindSpore's convolution,
none for the oneDNN one unless you exported ONEDNN_MAX_CPU_ISA).  ``--torch`` times the same KD step written in
PyTorch (``ats_ms.interop.torch_reference`` networks, the same ATS loss) as a user runs it: in its own process,
started with the environment this command was started with (not ats_ms's defaults), with as many threads as
MindSpore uses; the table states both.
"""
import argparse
import json
import os
import sys

from ats_ms.benchmark.processes import run_worker
from ats_ms.benchmark.timing import run_record
from ats_ms.cli import run_cli
from ats_ms.common.errors import AtsError, ConfigError


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_pairs(text):
    pairs = [tuple(p.split(":")) for p in text.split(",")]
    if not pairs or any(len(p) != 2 or not all(p) for p in pairs):
        raise ConfigError(f"--pairs must look like resnet110:vgg8,resnet32x4:resnet8x4, got '{text}'.")
    return pairs


def parse_counts(text, flag, example):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise ConfigError(f"{flag} must look like {example} (whole numbers of at least 1), got '{text}'.")
    return values


def build_parser():
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
    parser.add_argument("--torch", action="store_true", help="also the same step in PyTorch, as a user runs it")
    parser.add_argument("--conv", default="both", choices=("both", "builtin", "onednn"),
                        help="CPU convolution(s) to time: both (MindSpore's and ats_ms's oneDNN one, when it can be "
                             "had here), builtin or onednn")
    parser.add_argument("--students", help="K1,K2,...: time shared-teacher groups of K students instead "
                                           "(one process per K)")
    parser.add_argument("--output", help="write the results as JSON")
    return parser


def _common(args, pairs, batches):
    return {"pairs": pairs, "batches": batches, "classes": args.num_classes, "size": args.image_size,
            "steps": args.steps, "reps": args.reps, "warmup": args.warmup}


def _measure_convolutions(args, pairs, batches):
    """{conv: worker result}; with --conv both, MindSpore's alone when ats_ms's cannot be had here."""
    convs = ["builtin"] if args.device != "CPU" else (["builtin", "onednn"] if args.conv == "both" else [args.conv])
    results = {}
    for i, conv in enumerate(convs):
        arguments = dict(_common(args, pairs, batches), device=args.device, conv=conv, fold_bn=not args.no_fold_bn,
                         pipeline=i == 0)
        try:
            results[conv] = run_worker("steps", arguments, what=f"the {conv} convolution")
        except AtsError as exc:
            if args.conv != "both" or conv == "builtin":
                raise
            print(f"timing the built-in convolution only: the oneDNN one is not available ({exc})")
    return results


def _row_line(row, torch):
    line = (f"{row['teacher'] + ' -> ' + row['student']:28s} {row['batch']:5d} {row['conv']:>7s} {row['ce_ms']:8.1f} "
            f"{row['teacher_ms']:10.1f} {row['kd_ms']:8.1f} {row['kd_img_s']:9.1f} {row['overhead']:8.3f} "
            f"{row['cached_kd_ms']:9.1f} {row['kd_compile_s']:9.2f} "
            f"{row['kd_warmup_steps']:6d}{'' if row['kd_steady'] else '!'} {row['peak_rss_mb']:8d}")
    if torch:
        line += f" {row['torch_kd_ms']:11.1f} {row['ms_throughput_vs_torch']:8.3f}"
    return line


def _bench_steps(args, pairs, batches, argv):
    results = _measure_convolutions(args, pairs, batches)
    torch_rows = {}
    if args.torch:
        threads = _cpus()
        done = run_worker("torch", dict(_common(args, pairs, batches), threads=threads), what="PyTorch")
        torch_rows = {(r["teacher"], r["student"], r["batch"]): r for r in done["rows"]}
    rows = []
    for result in results.values():
        for row in result["rows"]:
            if torch_rows:
                t = torch_rows[(row["teacher"], row["student"], row["batch"])]
                row.update({k: v for k, v in t.items() if k.startswith("torch")},
                           ms_throughput_vs_torch=round(t["torch_kd_ms"] / row["kd_ms"], 3))
            rows.append(row)
    rows.sort(key=lambda r: (pairs.index((r["teacher"], r["student"])), r["batch"], r["conv"]))
    print(f"{'teacher -> student':28s} {'batch':>5s} {'conv':>7s} {'CE ms':>8s} {'teacher ms':>10s} {'KD ms':>8s} "
          f"{'KD img/s':>9s} {'overhead':>8s} {'cached ms':>9s} {'compile s':>9s} {'warm-up':>7s} {'peak MB':>8s}"
          + (f" {'torch KD ms':>11s} {'ms/torch':>8s}" if args.torch else ""))
    for i, row in enumerate(rows):
        print(_row_line(row, args.torch))
        previous = rows[i - 1] if i else None
        if previous and (previous["teacher"], previous["batch"]) == (row["teacher"], row["batch"]) \
                and previous["conv"] == "builtin" and row["conv"] == "onednn":
            print(f"{'':28s} {'':5s} oneDNN convolution: KD step {previous['kd_ms'] / row['kd_ms']:.2f}x the built-in's "
                  "speed")
    for conv, result in results.items():
        print(f"{conv} convolution: {result['rows'][0]['conv_detail']}; cpu isa {result['rows'][0]['cpu_isa']}")
    if torch_rows:
        t = next(iter(torch_rows.values()))
        print(f"PyTorch {t['torch_version']}: its own process, {t['torch_threads']} threads (MindSpore's count), the "
              f"environment this command started with (ONEDNN_MAX_CPU_ISA {t['torch_env_cpu_isa']}), ATen CPU "
              f"capability {t['torch_cpu_capability']}")
    pipeline = next(iter(results.values()))["pipeline_images_per_s"]
    print(f"input pipeline (augmentation + batch {max(batches)}, 32x32 uint8): {pipeline} images/s")
    print("warm-up: steps run before timing the KD step, until two consecutive steps agreed within 10 % "
          "(! = not steady after the maximum; every measurement's count is in the JSON output)")
    return dict(run_record(args.device, argv), rows=rows, pipeline_images_per_s=pipeline)


def main(argv=None):
    args = build_parser().parse_args(argv)
    pairs, batches = parse_pairs(args.pairs), parse_counts(args.batch_sizes, "--batch-sizes", "64,128")
    for flag in ("steps", "reps", "num_classes", "image_size"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}.")
    if args.students:
        from ats_ms.benchmark.students import run_all  # pylint: disable=import-outside-toplevel
        ks = parse_counts(args.students, "--students", "1,2,4,8")
        result = dict(run_record(args.device, argv),
                      rows=run_all(pairs, ks, batches[0], args.num_classes, args.image_size, args.steps, args.reps,
                                   args.warmup, args.device, "auto" if args.conv == "both" else args.conv))
    else:
        result = _bench_steps(args, pairs, batches, argv)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
