"""``python -m ats_ms.train``: train a teacher or distil a student from a YAML config.

    python -m ats_ms.train                                   # the quick start (digits, under a minute on 2 CPU cores)
    python -m ats_ms.train --config FILE [section.key=value ...]   # FILE: a YAML file or a shipped config's name
    python -m ats_ms.train --config FILE --resume            # continue a killed or interrupted run

Shipped configs are listed by ``python -m ats_ms.configs``.
    python -m ats_ms.train --dataset cifar100 --net_name VGG8 --kd_way ATS --tp_tau 4 --t_tau 2 ...  # demo flags
"""
import argparse
import os
import sys

from ats_ms.cli import demo_flags
from ats_ms.cli import run_cli
from ats_ms.process.startup import prepare_process
from ats_ms.config import load_config
from ats_ms.common.errors import ConfigError


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m ats_ms.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a YAML config file or a shipped config's name (python -m ats_ms.configs lists "
                                         "them); unset keys take the ATS paper recipe's defaults")
    parser.add_argument("--resume", action="store_true", help="same as checkpoint.resume=auto")
    parser.add_argument("--quickstart", action="store_true",
                        help="run the built-in demonstration (what a bare 'python -m ats_ms.train' does)")
    parser.add_argument("--output-dir", default=None, help="quick start only: where its run folder goes")
    parser.add_argument("--quickstart-dir", default=None,
                        help="quick start only: continue the quick start in this folder (finished runs are kept, "
                             "an interrupted one resumes)")
    parser.add_argument("--print-run-dir", action="store_true",
                        help="validate the config, print its run directory and exit (used by launchers)")
    parser.add_argument("--recipe", help="start from a named recipe in configs/recipes/ (ats_paper, demo, "
                                          "kd_benchmark); demo flags imply 'demo'")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    demo_flags.add_to_parser(parser)
    return parser


def _quickstart_asked(args, argv):
    """The quick start: asked for, implied by a bare command, or by its own flags alone (``--output-dir DIR``); a
    quick-start flag beside a config or overrides is refused rather than dropped."""
    if args.quickstart or args.quickstart_dir or argv == []:
        return True
    if args.output_dir is None:
        return False
    if args.config or args.overrides or args.recipe or args.resume or args.print_run_dir:
        raise ConfigError(f"--output-dir {args.output_dir} is a quick-start flag (where its run folders go); it has no "
                          "effect on a config's run. Use experiment.output_dir=" + args.output_dir + " for that, or "
                          "python -m ats_ms.train --quickstart --output-dir " + args.output_dir + " for the quick start.")
    return True


def main(argv=None):
    args = build_parser().parse_intermixed_args(argv)
    if _quickstart_asked(args, list(argv if argv is not None else sys.argv[1:])):
        from ats_ms.experiments.quickstart import run_quickstart  # pylint: disable=import-outside-toplevel
        run_quickstart(output_dir=args.output_dir or "runs", overrides=args.overrides,
                       continue_dir=args.quickstart_dir)
        return 0
    # demo flags alone mean the demo's script defaults and recipe; with a --config they only override
    demo_recipe, demo_overrides, notes = demo_flags.to_overrides(args, with_config=bool(args.config))
    overrides = demo_overrides + list(args.overrides)
    cfg = load_config(args.config, overrides, recipe=args.recipe or demo_recipe)
    if args.resume and cfg.checkpoint.resume == "none":  # an explicit state (file or override) wins over --resume
        cfg.checkpoint.resume = "auto"
    if args.print_run_dir:
        print(os.path.join(cfg.experiment.output_dir, cfg.experiment.name))
        return 0
    for note in notes:
        print(f"demo flags: {note}")
    if demo_overrides and cfg.distill.method != "none" and any(o.startswith("teacher.checkpoint=") for o in demo_overrides):
        print(f"demo flags: {demo_flags.describe_teacher(cfg.teacher.checkpoint)}")
    prepare_process(cfg)  # before MindSpore's first operation
    from ats_ms.engine.trainer import train  # pylint: disable=import-outside-toplevel
    train(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
