"""The quick start: a complete, real KD experiment on the built-in digits dataset.

Trains a ResNet-32 teacher on the whole digits training split, then ResNet-8 students that see only a
small labelled part of it (``data.train_samples`` in their configs): with cross-entropy only, with
temperature scaling (TS, 4/4) and with ATS (4/2) from that teacher.  With few labels the student alone
falls clearly below the teacher, which leaves the distillation rows room to differ.  The four runs use
the shipped configs in ``configs/quickstart/`` and all go under one folder,
``<output_dir>/quickstart-<timestamp>/``, with ``comparison.md``, ``comparison.json`` and
``comparison.png`` (test and training curves).

Ctrl-C stops the whole quick start (the interrupted run keeps its state); the printed command continues
it: finished runs are kept and the interrupted one resumes.
"""
import json
import os
import shlex
import time

from ats_ms.config import load_config
from ats_ms.config.shipped import quickstart_config
from ats_ms.engine import run_dir as rd
from ats_ms.errors import Interrupted

STEPS = [("teacher", "digits_teacher.yaml", "CE", "-"),
         ("student_ce", "digits_student_ce.yaml", "CE only", "-"),
         ("student_ts", "digits_student_ts.yaml", "TS", "4 / 4"),
         ("student_ats", "digits_student_ats.yaml", "ATS", "4 / 2")]


def _fmt(value):
    return "-" if value is None else f"{value:.2f}"


def comparison_table(summaries, configs):
    lines = ["| network | training | labelled training images | tau_target / tau_wrong | best top-1 % | last top-1 % "
             "| last train top-1 % |", "|---|---|---|---|---|---|---|"]
    for label, _, how, taus in STEPS:
        s, cfg = summaries[label], configs[label]
        role = "teacher" if label == "teacher" else "student"
        images = cfg.data.train_samples or "all"
        lines.append(f"| {role} {cfg.model.arch} | {how} | {images} | {taus} | {_fmt(s['best_top1'])} | "
                     f"{_fmt(s['last_top1'])} | {_fmt(s.get('last_train_top1'))} |")
    return "\n".join(lines)


def run_quickstart(output_dir="runs", overrides=(), continue_dir=None):
    from ats_ms.engine.trainer import train  # pylint: disable=import-outside-toplevel
    root = continue_dir or os.path.join(output_dir, time.strftime("quickstart-%Y%m%d-%H%M%S"))
    start = time.time()
    summaries, configs = {}, {}
    teacher_ckpt = None
    for label, fname, _, _ in STEPS:
        extra = [f"experiment.output_dir={root}", f"experiment.name={label}", "checkpoint.resume=auto"]
        if teacher_ckpt:
            extra.append(f"teacher.checkpoint={teacher_ckpt}")
        cfg = load_config(quickstart_config(fname), extra + list(overrides))
        configs[label] = cfg
        try:
            summaries[label] = train(cfg)
        except Interrupted as exc:
            command = " ".join(shlex.quote(a) for a in ["python", "-m", "ats_ms.train", "--quickstart",
                                                         "--quickstart-dir", root] + list(overrides))
            raise Interrupted(exc.signum, f"Quick start stopped during its '{label}' run; the finished runs and that "
                                          "run's state are kept. Continue it with:", command) from None
        if label == "teacher":
            teacher_ckpt = os.path.join(root, label, rd.BEST)
    table = comparison_table(summaries, configs)
    note = (f"\nDigits test split: {summaries['teacher']['test_images']} images (one image = "
            f"{100 / summaries['teacher']['test_images']:.2f} %), seed {configs['teacher'].experiment.seed}, "
            f"{time.time() - start:.0f} s in all. One seed: differences of a point or two between the KD rows are "
            "within run-to-run noise; see the README for several seeds.")
    with open(os.path.join(root, "comparison.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n" + note + "\n")
    with open(os.path.join(root, "comparison.json"), "w", encoding="utf-8") as f:
        json.dump(summaries, f, indent=2)
    picture = _curves(root)
    print("\n" + table + "\n" + note + f"\nEverything is under {root}/" + (f"; curves: {picture}" if picture else ""))
    return root, summaries


def _curves(root):
    try:
        from ats_ms.report import plot_curves  # pylint: disable=import-outside-toplevel
        from ats_ms.errors import AtsError  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    try:
        return plot_curves([os.path.join(root, label) for label, _, _, _ in STEPS],
                           os.path.join(root, "comparison.png"), title="quick start: digits")
    except AtsError as exc:  # matplotlib missing: the table is the result, the picture a bonus
        print(f"(no comparison.png: {exc})")
        return None
