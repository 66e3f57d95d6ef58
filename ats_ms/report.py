"""``python -m ats_ms.report``: a results table, a tau heat map and training curves from run directories.

    python -m ats_ms.report runs/cifar100 [more dirs] [--output results.md] [--output rows.json] [--heatmap fig10.png]
    python -m ats_ms.report runs/quickstart --curves curves.png
    python -m ats_ms.report runs/cifar10/capacity_fit --select --heatmap grid.png --metric val

Finds every finished run (a ``summary.json`` beside its ``config.yaml``) under the given folders and
groups runs that differ only in ``experiment.seed`` (everything else that defines the experiment, the
number of epochs included, must agree; a row whose networks and temperatures match another's says in its
"setting" column what differs).  The table lists teacher, student, method, the temperatures, the number of
seeds, and best and last top-1 as mean +- standard deviation over seeds (sample std; "best" is the maximum
over a run's evaluations, "last" the final epoch's, which is what RepDistiller reports), and the last
validation top-1 for runs that hold a validation split out (``data.val_per_class``).  The heat map shows
mean top-1 over the tau_target x tau_wrong grid of each teacher/student pair, like Fig. 10 of the ATS
paper; it needs matplotlib (the plot extra).
Runs trained together in one shared-teacher group (``ats_ms.sweep --shared-teacher``) are marked: their
numbers come from the same initial weights and batches, so differences between them are paired.

``--select`` adds, per teacher, the best TS and the best ATS setting chosen on the validation split (never on
the test set) and their test top-1 difference seed by seed (``ats_ms.results.selection``).

Teachers analysed with ``python -m ats_ms.analyze`` into a folder under the roots (its ``analysis.json``) are reported
too: their tables follow the runs' table, and ``--figures DIR`` draws their figures again (sigma(q) and e(q) against
tau, reliability diagrams) from those files, so every table and figure of a study is rebuilt from its folders.

``--curves`` draws, for every run with a ``metrics.jsonl`` (finished or not), test top-1, training top-1
and the training cross-entropy on the labels per epoch, one line per setting labelled by teacher, student, method and
temperatures; several seeds of one setting are drawn as their mean with a min-max band.  A corrupt or
foreign ``summary.json`` is skipped with a warning naming the file.
"""
import argparse
import json
import os
import sys

from ats_ms.cli import add_output, check_output_folder, run_cli
from ats_ms.engine import run_dir as rd
from ats_ms.common.errors import AtsError
from ats_ms.results.figures import heatmaps, plot_curves
from ats_ms.results import selection
from ats_ms.results.runs import find_runs, group_runs, run_folders
from ats_ms.results.tables import markdown_table
from ats_ms.analysis.plots import write_all
from ats_ms.analysis.tables import markdown as analysis_markdown


def analysis_files(roots):
    """Every ``analysis.json`` under ``roots`` (written by python -m ats_ms.analyze), sorted."""
    found = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            if "analysis.json" in files:
                found.append(os.path.join(dirpath, "analysis.json"))
    return sorted(found)


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise AtsError(f"'{path}' cannot be read as an analysis ({exc}); delete it or run python -m ats_ms.analyze "
                       "again.") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="+", help="folders holding run directories")
    add_output(parser, "write the table here: Markdown, or the grouped rows as JSON for a .json name (repeatable)",
               repeatable=True)
    parser.add_argument("--heatmap", help="PNG path for the tau_target x tau_wrong heat map(s)")
    parser.add_argument("--metric", choices=("best", "last", "val"), default="last",
                        help="heat-map value: best or last test top-1, or the last validation top-1")
    parser.add_argument("--select", action="store_true",
                        help="also the best TS and the best ATS per teacher, chosen on the validation split, and their "
                             "paired per-seed test difference")
    parser.add_argument("--curves", help="PNG path: test / training top-1 and training label cross-entropy per epoch, "
                                             "one line per setting")
    parser.add_argument("--figures", help="folder for the figures of every teacher analysis (analysis.json) found under "
                                          "the roots: sigma(q) and e(q) against tau, reliability diagrams")
    args = parser.parse_args(argv)
    outputs = [(path, path.endswith(".json")) for path in args.output or []]
    outputs += [(path, True) for path in args.json_output or []]
    for target, flag in [(p, "--output") for p, _ in outputs] + [(args.heatmap, "--heatmap"),
                                                                 (args.curves, "--curves")]:
        if target:
            check_output_folder(target, flag)
    if args.figures and not os.path.isdir(args.figures):
        raise AtsError(f"--figures '{args.figures}' must be an existing folder (nothing was computed).")
    analyses = analysis_files(args.roots)
    if args.curves:
        print(f"curves: {plot_curves(sorted(run_folders(args.roots, rd.METRICS)), args.curves)}")
    runs = find_runs(args.roots)
    if not runs and not analyses:
        if args.curves:
            return 0
        raise AtsError(f"No finished runs (summary.json + config.yaml) under {', '.join(args.roots)}.")
    rows = group_runs(runs)
    table = markdown_table(rows) if runs else "No finished runs under these folders."
    if args.select:
        chosen = selection.select(runs)
        table += "\n\n" + selection.markdown(chosen)
        others = selection.markdown_others(selection.select_others(runs, chosen))
        table += ("\n\n" + others) if others else ""
    for path in analyses:
        table += f"\n\n## Teachers analysed in {os.path.dirname(path)}\n\n" + analysis_markdown(_read_json(path))
    print(table)
    for path in analyses if args.figures else ():
        label = os.path.basename(os.path.dirname(os.path.dirname(path))) or "analysis"
        for split, report in _read_json(path).items():
            for figure in write_all(report["teachers"], args.figures, suffix=f"_{label}_{split}"):
                print(f"figure: {figure}")
    for path, as_json in outputs:
        rd.write_text_atomic(path, json.dumps(rows, indent=2) if as_json else table + "\n")
    if args.heatmap:
        for out in heatmaps(rows, args.heatmap, args.metric):
            print(f"heat map: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
