"""The results table in Markdown."""
import math


def pm(mean, std):
    """"mean ± std", "mean" for one seed, "-" for none."""
    if math.isnan(mean):
        return "-"
    return f"{mean:.2f}" if math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def tau(value):
    return "-" if value is None else f"{value:g}"


def markdown_table(rows):
    paired = any(r.get("shared_teacher_groups") for r in rows)
    with_setting = any(r.get("setting") for r in rows)
    with_val = any(not math.isnan(r.get("val_mean", float("nan"))) for r in rows)
    head = ["dataset", "teacher", "student", "method", "tau_target", "tau_wrong", "tau_student"]
    head += ["setting"] * with_setting + ["seeds", "best top-1 %", "last top-1 %"]
    head += ["last validation top-1 %"] * with_val + ["group"] * paired
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["dataset"], r["teacher"], r["student"], r["method"], tau(r["tau_target"]), tau(r["tau_wrong"]),
                 tau(r["tau_student"])]
        cells += [r.get("setting") or "-"] * with_setting
        cells += [str(r["seeds"]), pm(r["best_mean"], r["best_std"]), pm(r["last_mean"], r["last_std"])]
        cells += [pm(r["val_mean"], r["val_std"])] * with_val
        cells += [",".join(r.get("shared_teacher_groups") or []) or "-"] * paired
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("best = highest test top-1 over a run's evaluations; last = top-1 after the final epoch; "
                 "mean ± sample standard deviation over seeds (no ± with one seed).")
    if with_setting:
        lines.append("setting: what tells a row apart from rows with the same networks, method and temperatures; "
                     "runs are seeds of one row only when everything but the seed agrees.")
    if with_val:
        lines.append("validation: the images held out of the training set (data.val_per_class), for choosing "
                     "settings without the test set.")
    if paired:
        lines.append("group: rows with the same letter were trained together in one shared-teacher group (same "
                     "initial weights, same batches, one teacher forward), so the differences between them are "
                     "paired and not blurred by run-to-run noise.")
    return "\n".join(lines)
