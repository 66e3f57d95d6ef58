"""``python -m ats_ms.analyze``: look at teachers' soft labels the way the 2024 paper does.

    python -m ats_ms.analyze --config runs/t/config.yaml --teacher resnet110:runs/t/best.ckpt \\
        --teacher wrn_28_8:teachers/wrn_28_8.ckpt [--student vgg8:runs/s/best.ckpt] [--pair 4:2] \\
        [--split test,train] --output analysis/

For every teacher, on each chosen split (``--split test,train``; read in file order, no augmentation): its
parameter count, accuracy, confidence and calibration (ECE, reliability diagram); over the temperature sweep
tau in {0.05 ... 10}, for TS and for ATS (tau1 = 1.25 tau, tau2 = 0.75 tau) and for every ``--pair``: the mean
e(q) and sigma(q) of the wrong-class probabilities, the mean target probability and how often the target
stays top-1; its class-affinity matrix (each class's mean soft label).  With several teachers, their agreement
on class affinity: per class, the rank correlation of two teachers' mean wrong-class probabilities, and per
sample, of their wrong-class logits (Spearman, Kendall, top-5 overlap).  With a student, the KD term split into
correct guidance, smooth regularisation and class discriminability.  A checkpoint that records the
normalisation it was trained with (a converted published network) is fed accordingly.  Writes
``analysis.json`` (every number), ``analysis.md`` (the tables) and PNG plots into ``--output``.
"""
import argparse
import dataclasses
import os
import sys


from ats_ms.cli import run_cli
from ats_ms.process.startup import prepare_process
from ats_ms.config import load_config
from ats_ms.config.arch_names import check_arch
from ats_ms.common.errors import ConfigError


def parse_net(text, flag):
    """``ARCH:CHECKPOINT`` or ``LABEL=ARCH:CHECKPOINT``.  ARCH is a network name, ``mindcv:<name>`` included (its
    own ':' is part of it); the checkpoint path is everything after ARCH's ':', so paths may contain ':' and '='
    (every sweep point's folder does).  A LABEL is recognised only before the first ':'."""
    label, rest = "", text
    if "=" in text.split(":", 1)[0]:
        label, _, rest = text.partition("=")
    if rest.lower().startswith("mindcv:"):
        name, sep, path = rest[len("mindcv:"):].partition(":")
        arch = rest[:len("mindcv:")] + name
    else:
        arch, sep, path = rest.partition(":")
    if not sep or not arch or not path or arch.lower() == "mindcv:":
        raise ConfigError(f"{flag} '{text}' must be ARCH:CHECKPOINT (optionally LABEL=ARCH:CHECKPOINT), "
                          "e.g. resnet110:runs/t/best.ckpt or mindcv:resnet18:teachers/r18.ckpt.")
    check_arch(arch, f"{flag} {text}")
    if not os.path.isfile(path):
        raise ConfigError(f"{flag} '{text}': the checkpoint '{path}' does not exist.")
    return label or arch, arch, path


def parse_pair(text):
    try:
        t1, t2 = (float(v) for v in text.split(":"))
    except ValueError:
        raise ConfigError(f"--pair '{text}' must be TAU_TARGET:TAU_WRONG, e.g. 4:2.") from None
    if t1 <= 0 or t2 <= 0:
        raise ConfigError(f"--pair '{text}': temperatures must be > 0.")
    return t1, t2


from ats_ms.analysis.measure import analyze


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.analyze", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="gives the dataset (and distill temperatures)")
    parser.add_argument("--teacher", action="append", required=True, metavar="[LABEL=]ARCH:CKPT")
    parser.add_argument("--student", metavar="[LABEL=]ARCH:CKPT", help="adds the KD decomposition")
    parser.add_argument("--pair", action="append", default=[], metavar="TAU1:TAU2", help="extra (tau1, tau2) points")
    parser.add_argument("--split", default="test", help="test, train, or both: test,train")
    parser.add_argument("--output", default="analysis")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = parser.parse_intermixed_args(argv)
    cfg = load_config(args.config, list(args.overrides) + ["checkpoint.resume=none"])
    teachers = [parse_net(t, "--teacher") for t in args.teacher]
    if len({t[0] for t in teachers}) != len(teachers):
        raise ConfigError("Two --teacher entries share a label; give them distinct LABEL=ARCH:CKPT labels.")
    student = parse_net(args.student, "--student") if args.student else None
    evaluated = [net[1] for net in teachers + ([student] if student else [])]
    prepare_process([dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, arch=arch)) for arch in evaluated])
    splits = [s.strip() for s in args.split.split(",") if s.strip()]
    if not splits or any(s not in ("test", "train") for s in splits) or len(set(splits)) != len(splits):
        raise ConfigError(f"--split '{args.split}' must be test, train or test,train.")
    analyze(cfg, teachers, student, [parse_pair(p) for p in args.pair], splits, args.output, not args.no_plots)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
