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

import numpy as np

from ats_ms.cli import run_cli
from ats_ms.engine.run_dir import write_json
from ats_ms.startup import prepare_process
from ats_ms.config import load_config
from ats_ms.config.arch_names import check_arch
from ats_ms.errors import ConfigError


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


def collect_logits(cfg, arch, path, data, pipeline=None):
    """Logits and labels of one network over the whole (ordered) dataset."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import network_from_checkpoint  # pylint: disable=import-outside-toplevel
    from ats_ms.data.pipeline_errors import pipeline_errors  # pylint: disable=import-outside-toplevel
    restored = network_from_checkpoint(cfg, path, arch=arch, pipeline=pipeline)
    net = restored.net
    for note in restored.notes:
        print(f"note: {note}")
    logits, labels = [], []
    with pipeline_errors(cfg.data):
        for images, y in data.create_tuple_iterator(num_epochs=1):
            logits.append(net(images).astype(ms.float32).asnumpy())
            labels.append(y.asnumpy())
    return np.concatenate(logits), np.concatenate(labels).astype(np.int64)


def analyze_split(cfg, teachers, student, pairs, split):
    """Every measurement on one split: {dataset, split, images, teachers, agreement, affinity_consistency,
    decomposition?}."""
    from ats_ms.analysis import dark_knowledge as dk  # pylint: disable=import-outside-toplevel
    from ats_ms.data import create_dataset  # pylint: disable=import-outside-toplevel
    from ats_ms.models import count_params, create_model  # pylint: disable=import-outside-toplevel
    data, info = create_dataset(cfg.data, split, ordered=True)
    pipeline = (info.mean, info.std)
    results, logits = {}, {}
    labels = None
    for label, arch, path in teachers:
        z, y = collect_logits(cfg, arch, path, data, pipeline)
        if labels is not None and not np.array_equal(labels, y):
            raise ConfigError("The dataset did not yield the same images in the same order twice.")
        labels, logits[label] = y, z
        results[label] = {"arch": arch, "checkpoint": path, "parameters": count_params(create_model(arch, z.shape[1])),
                          "calibration": dk.calibration(z, y), "sweep": dk.temperature_sweep(z, y, pairs=pairs),
                          "class_affinity": dk.class_affinity(z, y).tolist()}
        calib = results[label]["calibration"]
        print(f"{split} {label}: top1 {100 * calib['accuracy']:.2f}%, confidence {100 * calib['confidence']:.2f}%, "
              f"ECE {100 * calib['ece']:.2f}%", flush=True)
    report = {"dataset": info.name, "split": split, "images": int(len(labels)), "teachers": results,
              "sweep_taus": list(dk.SWEEP_TAUS), "ats_ratio": list(dk.ATS_RATIO),
              "sigma_q_definition": "population standard deviation of the wrong-class probabilities"}
    names = list(logits)
    pairs_of = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    report["agreement"] = {f"{a} vs {b}": dk.class_affinity_agreement(logits[a], logits[b], labels) for a, b in pairs_of}
    report["affinity_consistency"] = {
        f"{a} vs {b}": dk.affinity_consistency(np.array(results[a]["class_affinity"]),
                                               np.array(results[b]["class_affinity"])) for a, b in pairs_of}
    if student:
        s_label, s_arch, s_path = student
        s_logits, _ = collect_logits(cfg, s_arch, s_path, data, pipeline)
        d = cfg.distill
        report["decomposition"] = {
            f"{t} -> {s_label}": dk.kd_decomposition(logits[t], s_logits, labels, d.tau_target, d.tau_wrong,
                                                     d.tau_student) for t in names}
    return report


def analyze(cfg, teachers, student=None, pairs=(), splits=("test",), out_dir="analysis", plots=True):
    """Measure every split, then write ``analysis.json``, ``analysis.md`` and the figures; returns {split: report}."""
    from ats_ms.analysis.tables import markdown  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.run_dir import write_text_atomic  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.runtime import setup_runtime  # pylint: disable=import-outside-toplevel
    setup_runtime(cfg.runtime)
    reports = {split: analyze_split(cfg, teachers, student, pairs, split) for split in splits}
    os.makedirs(out_dir, exist_ok=True)  # only now: a failed analysis leaves no empty folder behind
    write_json(os.path.join(out_dir, "analysis.json"), reports)
    write_text_atomic(os.path.join(out_dir, "analysis.md"), markdown(reports))
    files = [os.path.join(out_dir, name) for name in ("analysis.json", "analysis.md")]
    if plots:
        from ats_ms.analysis.plots import write_all  # pylint: disable=import-outside-toplevel
        for split, report in reports.items():
            files += write_all(report["teachers"], out_dir, suffix="" if len(reports) == 1 else f"_{split}")
    for split, report in reports.items():
        for pair, agree in report["agreement"].items():
            cls = report["affinity_consistency"][pair]["class_spearman_mean"]
            print(f"{split} {pair}: class-affinity Spearman {cls:.3f}; per sample Spearman {agree['spearman']:.3f}, "
                  f"Kendall {agree['kendall']:.3f}")
    print("wrote " + ", ".join(files))
    return reports


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
