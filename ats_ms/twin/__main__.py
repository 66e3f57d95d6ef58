"""``python -m ats_ms.twin``: train a run in ats_ms and, beside it, in PyTorch, and report where they differ.

    python -m ats_ms.twin --config FILE [section.key=value ...] [--output DIR]

Both halves start from ats_ms's initial weights (the student's, and the teacher's from its checkpoint), see the
batches ats_ms's own pipeline produces in the same order, and use the same loss, SGD, schedule and evaluation
(the PyTorch half written from the formulas, not from ats_ms's code).  Printed and written to
``DIR/twin.json`` (and, with matplotlib, ``DIR/twin.png``): the first step's loss and gradient differences, the
two loss curves step by step, the learning rates, and both networks' test top-1 at the run's evaluation epochs.
DIR defaults to ``<experiment.output_dir>/<experiment.name>_twin``.  Covers the CIFAR resnet / wrn / vgg
networks and the methods none (CE), ts / kd, ats and dkd; needs the torch extra.  Nothing is written into the
run's own folder.
"""
import argparse
import os
import sys

from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.common.errors import ConfigError


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m ats_ms.twin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a YAML config file or a shipped config's name (else the defaults and the "
                                         "overrides)")
    parser.add_argument("--output", help="folder for twin.json and twin.png")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    return parser


def main(argv=None):
    args = build_parser().parse_intermixed_args(argv)
    cfg = load_config(args.config, list(args.overrides) + ["checkpoint.resume=none"])
    if cfg.runtime.device_target != "CPU":
        raise ConfigError("The PyTorch twin runs on CPU (both halves in one process); set runtime.device_target=CPU.")
    output = args.output or os.path.join(cfg.experiment.output_dir, cfg.experiment.name + "_twin")
    from ats_ms.engine.run_dir import check_output_folder_writable  # pylint: disable=import-outside-toplevel
    check_output_folder_writable(output, "--output", {"again": "run the twin again"})  # before hours of training
    from ats_ms.twin.compare import Twin  # pylint: disable=import-outside-toplevel  (loads torch)
    from ats_ms.twin.report import plot, write_report, summary_lines  # pylint: disable=import-outside-toplevel
    report = Twin(cfg).train()
    path = write_report(report, output, cfg)
    for line in summary_lines(report):
        print(line)
    print(f"report: {path}")
    figure = plot(report, output)
    if figure:
        print(f"figure: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
