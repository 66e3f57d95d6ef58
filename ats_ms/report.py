"""``python -m ats_ms.report``: a results table, a tau heat map and training curves from run directories.

    python -m ats_ms.report runs/cifar100 [more dirs] [--output results.md] [--heatmap fig10.png --metric last]
    python -m ats_ms.report runs/quickstart --curves curves.png

Finds every finished run (a ``summary.json`` beside its ``config.yaml``) under the given folders and
groups runs that differ only in ``experiment.seed``.  The table lists teacher, student, method, the
temperatures, the number of seeds, and best and last top-1 as mean +- standard deviation over seeds
(sample std; "best" is the maximum over a run's evaluations, "last" the final epoch's, which is what
RepDistiller reports).  The heat map shows mean top-1 over the tau_target x tau_wrong grid of each
teacher/student pair, like Fig. 10 of the ATS paper; it needs matplotlib (``pip install matplotlib``).
Runs trained together in one shared-teacher group (``ats_ms.sweep --shared-teacher``) are marked: their
numbers come from the same initial weights and batches, so differences between them are paired.

``--curves`` draws, for every run with a ``metrics.jsonl`` (finished or not), test top-1, training top-1
and the training cross-entropy on the labels per epoch, one line per setting labelled by teacher, student, method and
temperatures; several seeds of one setting are drawn as their mean with a min-max band.  A corrupt or
foreign ``summary.json`` is skipped with a warning naming the file.
"""
import argparse
import json
import math
import os
import sys
from collections import defaultdict

from ats_ms.cli import run_cli
from ats_ms.engine import run_dir as rd
from ats_ms.errors import AtsError
from ats_ms.optional import pyplot


def _run_folders(roots, required):
    for root in roots:
        if not os.path.isdir(root):
            raise AtsError(f"'{root}' is not a folder of runs.")
        for dirpath, _, files in os.walk(root):
            if required in files and rd.CONFIG in files:
                yield dirpath


def _config_of(dirpath):
    cfg = rd.read_saved_config(dirpath)
    if not cfg or not isinstance(cfg.get("distill"), dict) or not isinstance(cfg.get("model"), dict):
        print(f"warning: skipping '{os.path.join(dirpath, rd.CONFIG)}': not a readable ats_ms run config",
              file=sys.stderr)
        return None
    return cfg


def find_runs(roots):
    """Finished runs as (folder, config dict, summary dict); unreadable ones are skipped with a warning."""
    runs = []
    for dirpath in _run_folders(roots, rd.SUMMARY):
        summary, problem = rd.read_summary(dirpath)
        if problem:
            print(f"warning: skipping {problem}", file=sys.stderr)
            continue
        cfg = _config_of(dirpath)
        if cfg is not None:
            runs.append((dirpath, cfg, summary))
    return sorted(runs, key=lambda r: r[0])


def run_key(cfg):
    d = cfg["distill"]
    distilled = d["method"] != "none"
    return (cfg["data"]["name"], cfg["teacher"]["arch"] if distilled else "-", cfg["model"]["arch"], d["method"],
            d["tau_target"] if distilled else None, d["tau_wrong"] if distilled else None,
            d["tau_student"] if distilled else None)


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float("nan")
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _group_letters(runs):
    """Shared-teacher groups -> short labels A, B, ... (by their sorted member lists)."""
    groups = sorted({tuple(s["shared_teacher_group"]) for _, _, s in runs if s.get("shared_teacher_group")})
    letters = {}
    for i, group in enumerate(groups):
        letters[group] = chr(ord("A") + i % 26) + (str(i // 26) if i >= 26 else "")
    return letters


def group_runs(runs):
    groups = defaultdict(list)
    letters = _group_letters(runs)
    for _, cfg, summary in runs:
        groups[run_key(cfg)].append(summary)
    rows = []
    for key, summaries in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        best, last = mean_std([s["best_top1"] for s in summaries]), mean_std([s.get("last_top1") for s in summaries])
        paired = sorted({letters[tuple(s["shared_teacher_group"])] for s in summaries if s.get("shared_teacher_group")})
        rows.append({"dataset": key[0], "teacher": key[1], "student": key[2], "method": key[3], "tau_target": key[4],
                     "tau_wrong": key[5], "tau_student": key[6], "seeds": len(summaries),
                     "best_mean": best[0], "best_std": best[1], "last_mean": last[0], "last_std": last[1],
                     "shared_teacher_groups": paired})
    return rows


def _pm(mean, std):
    if math.isnan(mean):
        return "-"
    return f"{mean:.2f}" if math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def _tau(value):
    return "-" if value is None else f"{value:g}"


def markdown_table(rows):
    paired = any(r.get("shared_teacher_groups") for r in rows)
    head = "| dataset | teacher | student | method | tau_target | tau_wrong | tau_student | seeds | best top-1 % | last top-1 % |"
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    if paired:
        head, rule = head + " group |", rule + "---|"
    lines = [head, rule]
    for r in rows:
        line = (f"| {r['dataset']} | {r['teacher']} | {r['student']} | {r['method']} | {_tau(r['tau_target'])} | "
                f"{_tau(r['tau_wrong'])} | {_tau(r['tau_student'])} | {r['seeds']} | "
                f"{_pm(r['best_mean'], r['best_std'])} | {_pm(r['last_mean'], r['last_std'])} |")
        if paired:
            line += f" {','.join(r.get('shared_teacher_groups') or []) or '-'} |"
        lines.append(line)
    lines.append("")
    lines.append("best = highest test top-1 over a run's evaluations; last = top-1 after the final epoch; "
                 "mean ± sample standard deviation over seeds (no ± with one seed).")
    if paired:
        lines.append("group: rows with the same letter were trained together in one shared-teacher group (same "
                     "initial weights, same batches, one teacher forward), so the differences between them are "
                     "paired and not blurred by run-to-run noise.")
    return "\n".join(lines)


def run_label(cfg):
    d = cfg["distill"]
    arch = cfg["model"]["arch"]
    if d["method"] == "none":
        return f"{arch} (CE)"
    method, taus = d["method"].upper(), ""
    if d["method"] in ("ts", "kd", "ats"):
        taus = f"{d['tau_target']:g}/{d['tau_wrong']:g}"
        if d["method"] == "ats" and d["tau_target"] == d["tau_wrong"]:  # equal temperatures: plain TS
            method, taus = "TS", f"{d['tau_target']:g}"
    return f"{cfg['teacher']['arch']} -> {arch} {method} {taus}".strip()


def read_curves(run_folder):
    """Per epoch: test top-1 (evaluated epochs), training top-1 and the training cross-entropy on the labels,
    from metrics.jsonl.  The label CE (the ``ce`` term every method logs) is drawn rather than the total loss
    because a KD run's total adds its weighted soft-label term, which would put KD curves above CE-only ones
    for a reason that says nothing about fit; runs that logged no ``ce`` term fall back to their total."""
    curves = {"test": {}, "train_top1": {}, "train_ce": {}}
    for r in rd.read_metrics(run_folder):
        if r.get("type") not in ("eval", "train") or "epoch" not in r:
            continue
        epoch = int(r["epoch"])
        if "top1" in r:
            curves["test"][epoch] = r["top1"]
        if "train_top1" in r:
            curves["train_top1"][epoch] = r["train_top1"]
        if "train_ce" in r or "train_loss" in r:
            curves["train_ce"][epoch] = r.get("train_ce", r.get("train_loss"))
    return curves


def curve_settings(run_folders):
    """{setting label: [curves of each run (seed)]} for the runs that have metrics."""
    settings = defaultdict(list)
    for folder in run_folders:
        cfg = _config_of(folder)
        if cfg is not None and os.path.exists(rd.path(folder, rd.METRICS)):
            settings[run_label(cfg)].append(read_curves(folder))
    return dict(settings)


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


def heatmaps(rows, path, metric="last"):
    """One PNG per teacher/student pair with TS/ATS runs; returns the files written."""
    plt = pyplot("The heat map")
    pairs = defaultdict(dict)
    for r in rows:
        if r["method"] in ("ts", "kd", "ats"):
            pairs[(r["teacher"], r["student"])][(r["tau_target"], r["tau_wrong"])] = r[f"{metric}_mean"]
    if not pairs:
        raise AtsError("No TS/ATS runs found for a heat map (sweep distill.tau_target x distill.tau_wrong first).")
    written = []
    stem, ext = os.path.splitext(path)
    for (teacher, student), cells in sorted(pairs.items()):
        t1 = sorted({k[0] for k in cells})
        t2 = sorted({k[1] for k in cells})
        grid = [[cells.get((a, b), float("nan")) for b in t2] for a in t1]
        fig, ax = plt.subplots(figsize=(1.1 * len(t2) + 2.5, 0.8 * len(t1) + 2))
        image = ax.imshow(grid, cmap="viridis", origin="lower", aspect="auto")
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                if not math.isnan(value):
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white", fontsize=8)
        ax.set_xticks(range(len(t2)), [f"{v:g}" for v in t2])
        ax.set_yticks(range(len(t1)), [f"{v:g}" for v in t1])
        ax.set_xlabel("tau_wrong (tau2)")
        ax.set_ylabel("tau_target (tau1)")
        ax.set_title(f"{teacher} -> {student}: {metric} top-1 %")
        fig.colorbar(image, ax=ax)
        fig.tight_layout()
        out = path if len(pairs) == 1 else f"{stem}_{teacher}_to_{student}{ext}"
        fig.savefig(out, dpi=120)
        plt.close(fig)
        written.append(out)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="+", help="folders holding run directories")
    parser.add_argument("--output", help="write the markdown table here (default: print only)")
    parser.add_argument("--json", help="write the grouped rows as JSON")
    parser.add_argument("--heatmap", help="PNG path for the tau_target x tau_wrong heat map(s)")
    parser.add_argument("--metric", choices=("best", "last"), default="last")
    parser.add_argument("--curves", help="PNG path: test / training top-1 and training label cross-entropy per epoch, "
                                             "one line per setting")
    args = parser.parse_args(argv)
    for target in (args.output, args.json, args.heatmap, args.curves):
        if target and not os.path.isdir(os.path.dirname(os.path.abspath(target))):
            raise AtsError(f"Cannot write '{target}': the folder '{os.path.dirname(os.path.abspath(target))}' does "
                           "not exist. Create it first or choose another path.")
    if args.curves:
        print(f"curves: {plot_curves(sorted(_run_folders(args.roots, rd.METRICS)), args.curves)}")
    runs = find_runs(args.roots)
    if not runs:
        if args.curves:
            return 0
        raise AtsError(f"No finished runs (summary.json + config.yaml) under {', '.join(args.roots)}.")
    rows = group_runs(runs)
    table = markdown_table(rows)
    print(table)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    if args.heatmap:
        for out in heatmaps(rows, args.heatmap, args.metric):
            print(f"heat map: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
