"""``python -m ats_ms.sweep``: run a grid of configs (e.g. tau_target x tau_wrong) and seeds.

    python -m ats_ms.sweep --config configs/cifar100/ats_paper/wrn_28_8_to_vgg8/ats.yaml \\
        --grid distill.tau_target=1,2,3,4,5,6 --grid distill.tau_wrong=1,2,3,4,5 --seeds 0,1 [-- key=value ...]
    python -m ats_ms.sweep --config X --grid distill.tau_target=2,4,6 --grid distill.tau_wrong=1,2,4 \\
        --shared-teacher [--group-size K]
    python -m ats_ms.sweep --config X --grid distill.tau_target,distill.tau_wrong=4:4,4:2,6:3 --shared-teacher

Each point runs into its own directory ``<output_dir>/<name>/<key=value>__...__seed=<s>/``.  Every point's
config is validated before the first one trains.  A point is skipped when its folder holds a run finished
with exactly the requested config, resumed when it holds a saved state, and left to another process that
holds it ("being trained by process N"): once nothing else is left this sweep waits for such points and
counts them finished by that process.  So the same command continues an interrupted sweep, and two sweep
processes over one grid share the work and both exit 0 when every point is finished.  A point that fails
with a user error is reported, the sweep goes on, and its exit code is 1.  ``--dry-run``
lists the points and their state.

``--shared-teacher`` trains the points in groups of up to K students per run: points that differ only
in their ``distill`` section share one teacher forward per batch, the same batches and the same initial
weights (a paired comparison); anything else splits the grid into groups, and the log says how.  Every
point still gets its own run folder with the same files as a separate run.
"""
import argparse
import sys

from ats_ms.cli import run_cli
from ats_ms.common.errors import ConfigError
from ats_ms.experiments.grid import parse_grid
from ats_ms.experiments.sweep import run_sweep


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--grid", action="append", default=[], metavar="section.key=v1,v2,...")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--shared-teacher", action="store_true",
                        help="train points that differ only in 'distill' together: one teacher forward per batch, "
                             "same batches and initial weights (paired)")
    parser.add_argument("--group-size", type=int, help="students per shared-teacher run (default: what fits in memory)")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = parser.parse_intermixed_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds must be comma-separated integers, got '{args.seeds}'.") from None
    if not seeds:
        raise ConfigError("--seeds lists no seed.")
    if args.group_size is not None and args.group_size < 1:
        raise ConfigError(f"--group-size must be at least 1, got {args.group_size}.")
    _, results = run_sweep(args.config, parse_grid(args.grid), seeds, args.overrides, args.dry_run,
                           shared_teacher=args.shared_teacher, group_size=args.group_size)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
