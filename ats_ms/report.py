"""``python -m ats_ms.report``: a results table (and a tau heat map) from run directories.

    python -m ats_ms.report runs/cifar100 [more dirs] [--output results.md] [--heatmap fig10.png --metric last]

Finds every finished run (a ``summary.json`` beside its ``config.yaml``) under the given folders and
groups runs that differ only in ``experiment.seed``.  The table lists teacher, student, method, the
temperatures, the number of seeds, and best and last top-1 as mean +- standard deviation over seeds
(sample std; "best" is the maximum over a run's evaluations, "last" the final epoch's, which is what
RepDistiller reports).  The heat map shows mean top-1 over the tau_target x tau_wrong grid of each
teacher/student pair, like Fig. 10 of the ATS paper; it needs matplotlib (``pip install matplotlib``).
"""
import argparse
import json
import math
import os
import sys
from collections import defaultdict

import yaml

from ats_ms.cli import run_cli
from ats_ms.errors import AtsError


def find_runs(roots):
    runs = []
    for root in roots:
        if not os.path.isdir(root):
            raise AtsError(f"'{root}' is not a folder of runs.")
        for dirpath, _, files in os.walk(root):
            if "summary.json" in files and "config.yaml" in files:
                with open(os.path.join(dirpath, "summary.json"), encoding="utf-8") as f:
                    summary = json.load(f)
                with open(os.path.join(dirpath, "config.yaml"), encoding="utf-8") as f:
                    cfg = yaml.safe_load(f)
                runs.append((dirpath, cfg, summary))
    return sorted(runs)


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


def group_runs(runs):
    groups = defaultdict(list)
    for _, cfg, summary in runs:
        groups[run_key(cfg)].append(summary)
    rows = []
    for key, summaries in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        best, last = mean_std([s["best_top1"] for s in summaries]), mean_std([s.get("last_top1") for s in summaries])
        rows.append({"dataset": key[0], "teacher": key[1], "student": key[2], "method": key[3], "tau_target": key[4],
                     "tau_wrong": key[5], "tau_student": key[6], "seeds": len(summaries),
                     "best_mean": best[0], "best_std": best[1], "last_mean": last[0], "last_std": last[1]})
    return rows


def _pm(mean, std):
    if math.isnan(mean):
        return "-"
    return f"{mean:.2f}" if math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def _tau(value):
    return "-" if value is None else f"{value:g}"


def markdown_table(rows):
    lines = ["| dataset | teacher | student | method | tau_target | tau_wrong | tau_student | seeds | best top-1 % | last top-1 % |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['teacher']} | {r['student']} | {r['method']} | {_tau(r['tau_target'])} | "
                     f"{_tau(r['tau_wrong'])} | {_tau(r['tau_student'])} | {r['seeds']} | "
                     f"{_pm(r['best_mean'], r['best_std'])} | {_pm(r['last_mean'], r['last_std'])} |")
    lines.append("")
    lines.append("best = highest test top-1 over a run's evaluations; last = top-1 after the final epoch; "
                 "mean ± sample standard deviation over seeds (no ± with one seed).")
    return "\n".join(lines)


def heatmaps(rows, path, metric="last"):
    """One PNG per teacher/student pair with TS/ATS runs; returns the files written."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise AtsError("The heat map needs matplotlib: pip install matplotlib (or pip install -e '.[plot]').") from None
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
    args = parser.parse_args(argv)
    runs = find_runs(args.roots)
    if not runs:
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
