"""The quick start: a complete, real KD experiment on the built-in digits dataset.

Trains a ResNet-14 teacher on the whole digits training split, then ResNet-8 students that see only a
small labelled part of it (``data.train_samples`` in their configs): with cross-entropy only, with
temperature scaling (TS, 4/4) and with ATS (4/2) from that teacher.  With few labels the student alone
falls clearly below the teacher, which leaves the distillation rows room to differ.  The four runs use
the shipped configs in ``configs/quickstart/`` and go where those configs put them,
``<output_dir>/quickstart/<run name>/`` (``runs/quickstart/teacher_resnet14/`` ...), so a shipped student
config run by hand afterwards finds the quick start's teacher.  ``comparison.md``, ``comparison.json`` and
``comparison.png`` (test and training curves) go beside them.

Running the quick start again continues it: finished runs are kept (and reported), an interrupted one
resumes, so Ctrl-C loses nothing and the same command finishes the work.
"""
import os
import shlex
import time

from ats_ms.config import load_config
from ats_ms.config.shipped import quickstart_config
from ats_ms.process.startup import prepare_process
from ats_ms.engine import run_dir as rd
from ats_ms.common.errors import Interrupted, RunFolderError

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
    root = continue_dir or os.path.join(output_dir, "quickstart")
    start = time.time()
    summaries, configs = {}, {}
    teacher_ckpt = None
    continue_command = " ".join(shlex.quote(a) for a in ["python", "-m", "ats_ms.train", "--quickstart",
                                                          "--quickstart-dir", root] + list(overrides))
    for label, fname, _, _ in STEPS:
        extra = [f"experiment.output_dir={root}", "checkpoint.resume=auto"]
        if teacher_ckpt:
            extra.append(f"teacher.checkpoint={teacher_ckpt}")
        cfg = load_config(quickstart_config(fname), extra + list(overrides))
        if not configs:
            prepare_process(cfg)  # before MindSpore's first operation (every step uses the same networks' kind)
        configs[label] = cfg
        run = os.path.join(root, cfg.experiment.name)
        try:
            summaries[label] = train(cfg)
        except Interrupted as exc:
            raise Interrupted(exc.signum, f"Quick start stopped during its '{label}' run; the finished runs and that "
                                          "run's state are kept. Continue it with:", continue_command) from None
        except RunFolderError as exc:
            raise RunFolderError(f"The quick start folder '{root}' holds an earlier quick start with other settings: "
                                 f"{exc} Start a new quick start elsewhere with --output-dir DIR, or remove "
                                 f"'{root}'.") from None
        if label == "teacher":
            teacher_ckpt = os.path.join(run, rd.BEST)
    table = comparison_table(summaries, configs)
    trained = sum(s.get("train_seconds") or 0.0 for s in summaries.values())
    note = (f"\nDigits test split: {summaries['teacher']['test_images']} images (one image = "
            f"{100 / summaries['teacher']['test_images']:.2f} %), seed {configs['teacher'].experiment.seed}. "
            f"Training time of the four runs: {trained:.0f} s (over every process that worked on them; evaluation and "
            f"start-up not counted); this command: {time.time() - start:.0f} s. One seed: differences of a point or "
            "two between the KD rows are within run-to-run noise; the documentation shows several seeds.")
    rd.write_text_atomic(os.path.join(root, "comparison.md"), table + "\n" + note + "\n")
    rd.write_json(os.path.join(root, "comparison.json"), summaries)
    picture = _curves(root, configs)
    print("\n" + table + "\n" + note + f"\nEverything is under {root}/" + (f"; curves: {picture}" if picture else ""))
    return root, summaries


def _curves(root, configs):
    try:
        from ats_ms.results.figures import plot_curves  # pylint: disable=import-outside-toplevel
        from ats_ms.common.errors import AtsError  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    try:
        return plot_curves([os.path.join(root, configs[label].experiment.name) for label, _, _, _ in STEPS],
                           os.path.join(root, "comparison.png"), title="quick start: digits")
    except AtsError as exc:  # matplotlib missing: the table is the result, the picture a bonus
        print(f"(no comparison.png: {exc})")
        return None
