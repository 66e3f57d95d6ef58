"""Figures of the results: training curves per setting and tau_target x tau_wrong heat maps (the ATS paper's
Figure 10 form).  They need matplotlib (the plot extra)."""
import math
import os
from collections import defaultdict

from ats_ms.common.errors import AtsError
from ats_ms.common.optional import pyplot
from ats_ms.results.runs import curve_settings, varying_keys


def plot_curves(run_folders, path, title=None):
    """One line per setting (seeds of a setting: mean and min-max band); returns ``path``."""
    plt = pyplot("The curves plot")
    settings = curve_settings(run_folders)
    if not settings:
        raise AtsError("No run with a metrics.jsonl to draw curves from.")
    panels = (("test", "test top-1 %"), ("train_top1", "training top-1 %"),
              ("train_ce", "training cross-entropy on the labels\n(the CE term; KD runs add a soft-label term)"))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for label, runs in sorted(settings.items()):
        for ax, (key, _) in zip(axes, panels):
            epochs = sorted(set().union(*[r[key].keys() for r in runs]))
            if not epochs:
                continue
            values = [[r[key].get(e, float("nan")) for e in epochs] for r in runs]
            mean = [sum(v[i] for v in values) / len(values) for i in range(len(epochs))]
            line, = ax.plot(epochs, mean, marker="o" if len(epochs) < 15 else None, markersize=3,
                            label=label + (f" ({len(runs)} seeds)" if len(runs) > 1 else ""))
            if len(runs) > 1:
                ax.fill_between(epochs, [min(v[i] for v in values) for i in range(len(epochs))],
                                [max(v[i] for v in values) for i in range(len(epochs))], alpha=0.2,
                                color=line.get_color())
    for ax, (_, name) in zip(axes, panels):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def heatmap_grids(rows, metric):
    """{(teacher, student, grid setting): {(tau_target, tau_wrong): mean of ``metric``}} of the TS/ATS rows."""
    pairs = defaultdict(dict)
    for r in rows:
        if r["method"] in ("ts", "kd", "ats"):
            cells = pairs[(r["teacher"], r["student"], r.get("grid_setting") or "")]
            cells[(r["tau_target"], r["tau_wrong"])] = r[f"{metric}_mean"]
    return pairs


def method_grids(rows, metric):
    """{(teacher, student, label): ((key_y, key_x), {(value_y, value_x): mean of ``metric``})} for the methods other
    than TS / ATS whose runs vary exactly two distill keys (a grid over the method's own keys)."""
    groups = defaultdict(list)
    for r in rows:
        if r["method"] not in ("none", "ts", "kd", "ats") and r.get("distill_setting"):
            groups[(r["teacher"], r["student"], r["method"], r.get("grid_base") or "")].append(r)
    grids = {}
    for (teacher, student, method, setting), members in groups.items():
        varying = varying_keys([r["distill_setting"] for r in members])
        if len(varying) != 2:
            continue
        key_y, key_x = varying
        cells = {(r["distill_setting"][key_y], r["distill_setting"][key_x]): r[f"{metric}_mean"] for r in members}
        grids[(teacher, student, method + (f" {setting}" if setting else ""))] = ((key_y, key_x), cells)
    return grids


def _draw(plt, cells, axes, title, out):
    """One heat map: rows are the first axis' values, columns the second's."""
    ys = sorted({k[0] for k in cells})
    xs = sorted({k[1] for k in cells})
    grid = [[cells.get((a, b), float("nan")) for b in xs] for a in ys]
    fig, ax = plt.subplots(figsize=(1.1 * len(xs) + 2.5, 0.8 * len(ys) + 2))
    image = ax.imshow(grid, cmap="viridis", origin="lower", aspect="auto")
    finite = [v for row in grid for v in row if not math.isnan(v)]
    middle = (min(finite) + max(finite)) / 2 if finite else 0.0
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if not math.isnan(value):  # dark text on the bright half of the colour map
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if value > middle else "white")
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in ys])
    ax.set_ylabel(axes[0])
    ax.set_xlabel(axes[1])
    ax.set_title(title, fontsize=10 if "\n" in title else None)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def heatmaps(rows, path, metric="last"):
    """One PNG per teacher/student pair (and setting) with TS/ATS runs, and one per other method whose runs vary two
    of its keys; returns the files written.  ``metric``: best, last or val (the last validation top-1)."""
    plt = pyplot("The heat map")
    pairs = heatmap_grids(rows, metric)
    others = method_grids(rows, metric)
    if not pairs and not others:
        raise AtsError("No grid found for a heat map: TS/ATS runs over distill.tau_target x distill.tau_wrong, or "
                       "another method's runs over two of its own keys (sweep them first).")
    pairs = {k: cells for k, cells in pairs.items() if any(not math.isnan(v) for v in cells.values())}
    others = {k: grid for k, grid in others.items() if any(not math.isnan(v) for v in grid[1].values())}
    if not pairs and not others:
        raise AtsError("None of the grid's runs holds a validation split (data.val_per_class), so a heat map of the "
                       "last validation top-1 (--metric val) would be blank; none was written. Use --metric last or "
                       "best, or train with data.val_per_class set." if metric == "val" else
                       f"None of the grid's runs has a {metric} top-1 to show; no heat map was written.")
    what = "last validation" if metric == "val" else metric
    stem, ext = os.path.splitext(path)
    total = len(pairs) + len(others)
    names = {}
    for teacher, student, setting in sorted(pairs):
        names[(teacher, student, setting)] = f"{stem}_{teacher}_to_{student}" + (
            f"_{len([k for k in names if k[:2] == (teacher, student)])}" if setting else "") + ext
    written = []
    for (teacher, student, setting), cells in sorted(pairs.items()):
        out = path if total == 1 else names[(teacher, student, setting)]
        title = f"{teacher} -> {student}: {what} top-1 %" + (f"\n{setting}" if setting else "")
        written.append(_draw(plt, cells, ("tau_target (tau1)", "tau_wrong (tau2)"), title, out))
    for (teacher, student, label), (axes, cells) in sorted(others.items()):
        out = path if total == 1 else f"{stem}_{teacher}_to_{student}_{label.split()[0]}{ext}"
        title = f"{teacher} -> {student}, {label.split()[0]}: {what} top-1 %" + (
            f"\n{label.split(' ', 1)[1]}" if " " in label else "")
        written.append(_draw(plt, cells, axes, title, out))
    return written
