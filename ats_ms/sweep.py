"""``python -m ats_ms.sweep``: run a grid of configs (e.g. tau_target x tau_wrong) and seeds.

    python -m ats_ms.sweep --config configs/cifar100/ats_paper/wrn_28_8_to_vgg8/ats.yaml \\
        --grid distill.tau_target=1,2,3,4,5,6 --grid distill.tau_wrong=1,2,3,4,5 --seeds 0,1 [-- key=value ...]

Each point runs into its own directory ``<output_dir>/<name>/<key=value>__...__seed=<s>/``.  Points
whose ``summary.json`` exists are skipped; points with a ``train_state.ckpt`` are resumed; so the same
command continues an interrupted sweep.  A point that fails with a user error is reported and the sweep
goes on.  ``--dry-run`` lists the points and their state.
"""
import argparse
import itertools
import os
import sys

import yaml

from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.engine.trainer import train
from ats_ms.errors import AtsError, ConfigError


def parse_grid(items):
    """["distill.tau_target=1,2", ...] -> [("distill.tau_target", ["1", "2"]), ...]"""
    grid = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--grid '{item}' is not of the form section.key=v1,v2,...")
        key, values = item.split("=", 1)
        parsed = [v.strip() for v in values.split(",") if v.strip()]
        if not parsed:
            raise ConfigError(f"--grid '{item}' lists no values.")
        grid.append((key.strip(), parsed))
    return grid


def _label(value):
    return str(yaml.safe_load(value)).replace("/", "_").replace(" ", "")


def points(grid, seeds):
    keys = [k for k, _ in grid]
    for combo in itertools.product(*[v for _, v in grid]) if grid else [()]:
        for seed in seeds:
            overrides = [f"{k}={v}" for k, v in zip(keys, combo)] + [f"experiment.seed={seed}"]
            name = "__".join([f"{k.split('.')[-1]}={_label(v)}" for k, v in zip(keys, combo)] + [f"seed={seed}"])
            yield name, overrides


def run_sweep(config, grid, seeds, extra=(), dry_run=False, train_fn=None):
    base = load_config(config, list(extra))
    sweep_dir = os.path.join(base.experiment.output_dir, base.experiment.name)
    results = {"done": [], "skipped": [], "failed": []}
    plan = list(points(grid, seeds))
    for index, (name, overrides) in enumerate(plan, start=1):
        point_overrides = list(extra) + overrides + [f"experiment.output_dir={sweep_dir}", f"experiment.name={name}",
                                                     "checkpoint.resume=auto"]
        cfg = load_config(config, point_overrides)  # validates every point before the first one runs
        run_dir = os.path.join(sweep_dir, name)
        finished = os.path.exists(os.path.join(run_dir, "summary.json"))
        state = "finished" if finished else "resume" if os.path.exists(os.path.join(run_dir, "train_state.ckpt")) \
            else "new"
        print(f"[{index}/{len(plan)}] {name}: {state}", flush=True)
        if dry_run:
            continue
        if finished:
            results["skipped"].append(name)
            continue
        try:
            (train_fn or train)(cfg)
            results["done"].append(name)
        except AtsError as exc:
            print(f"  point {name} failed: {exc}", flush=True)
            results["failed"].append(name)
    print(f"sweep {sweep_dir}: {len(results['done'])} run, {len(results['skipped'])} already finished, "
          f"{len(results['failed'])} failed")
    return sweep_dir, results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--grid", action="append", default=[], metavar="section.key=v1,v2,...")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = parser.parse_intermixed_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds must be comma-separated integers, got '{args.seeds}'.") from None
    _, results = run_sweep(args.config, parse_grid(args.grid), seeds, args.overrides, args.dry_run)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
