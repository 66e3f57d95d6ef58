"""``python -m ats_ms.data``: check a dataset as ats_ms will read it, and time the input pipeline.

    python -m ats_ms.data --name cifar100 --root /data            # counts per split and class
    python -m ats_ms.data --config configs/x.yaml --throughput     # + images/s with augmentation
    python -m ats_ms.data --name imagenet --root /data/imagenet --throughput --workers 1,2,4,8

``--throughput`` times the augmented training pipeline (decode, augmentation, batching) and reports, for each
worker count of ``--workers`` (default: data.num_parallel_workers), images per second and the process's peak
resident memory.
"""
import argparse
import dataclasses
import json
import resource
import sys

import numpy as np

from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.data.factory import create_dataset
from ats_ms.data.throughput import pipeline_throughput
from ats_ms.common.errors import ConfigError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config")
    parser.add_argument("--name")
    parser.add_argument("--root")
    parser.add_argument("--format")
    parser.add_argument("--throughput", action="store_true", help="time the augmented training pipeline")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--workers", help="with --throughput: comma-separated worker counts to time, e.g. 1,2,4")
    parser.add_argument("overrides", nargs="*", help="section.key=value")
    args = parser.parse_intermixed_args(argv)
    if args.batches < 1:
        raise ConfigError(f"--batches must be at least 1, got {args.batches}.")
    try:
        worker_counts = [int(w) for w in args.workers.split(",")] if args.workers else None
        assert worker_counts is None or (worker_counts and min(worker_counts) >= 1)
    except (ValueError, AssertionError):
        raise ConfigError(f"--workers must be comma-separated counts of at least 1, got '{args.workers}'.") from None
    overrides = list(args.overrides)
    for key in ("name", "root", "format"):
        if getattr(args, key):
            overrides.append(f"data.{key}={getattr(args, key)}")
    cfg = load_config(args.config, overrides).data
    report = {}
    for split in ("train", "test"):
        data, info = create_dataset(cfg, split, seed=0, ordered=True)  # every image once, as the test split is read
        counts = np.zeros(info.num_classes, np.int64)
        for _, labels in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
            counts += np.bincount(labels, minlength=info.num_classes)
        report[split] = {"images": info.num_samples, "classes": info.num_classes, "location": info.location,
                         "per_class_min": int(counts.min()) if counts.sum() else None,
                         "per_class_max": int(counts.max()) if counts.sum() else None}
        if split == "train" and args.throughput:
            report[split]["batch_size"] = cfg.batch_size
            report[split]["throughput"] = []
            for workers in worker_counts or [cfg.num_parallel_workers]:
                timed_cfg = dataclasses.replace(cfg, num_parallel_workers=workers)
                timed, timed_info = create_dataset(timed_cfg, "train", seed=0)
                report[split]["throughput"].append({
                    "workers": timed_info.workers, "images_per_s": round(pipeline_throughput(timed, args.batches), 1),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
