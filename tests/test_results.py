"""ats_ms.results: which finished runs are seeds of one setting, and the table built from them."""
import json

import yaml

from ats_ms.config import load_config, to_dict
from ats_ms.results.runs import curve_settings, find_runs, group_runs
from ats_ms.results.tables import markdown_table


def _run(root, name, overrides, last_top1, val=None):
    folder = root / name
    folder.mkdir(parents=True)
    cfg = to_dict(load_config(None, ["data.name=digits", "model.arch=resnet8"] + overrides))
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg))
    summary = {"best_top1": last_top1, "last_top1": last_top1, "epochs": cfg["schedule"]["epochs"]}
    if val is not None:
        summary["last_val_top1"] = val
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "metrics.jsonl").write_text(json.dumps({"type": "eval", "epoch": 1, "top1": last_top1}) + "\n")
    return str(folder)


def test_only_runs_that_differ_in_the_seed_alone_are_seeds_of_one_row(tmp_path):
    """A one-epoch sweep point beside a 40-epoch run of the same seed is a row of its own, not a second seed."""
    _run(tmp_path, "long_s0", ["schedule.epochs=40", "experiment.seed=0"], 97.0)
    _run(tmp_path, "long_s1", ["schedule.epochs=40", "experiment.seed=1"], 95.0)
    _run(tmp_path, "short_s0", ["schedule.epochs=1", "experiment.seed=0"], 0.2)
    rows = group_runs(find_runs([str(tmp_path)]))
    assert [(r["setting"], r["seeds"], r["last_mean"]) for r in rows] == [
        ("schedule.epochs=1", 1, 0.2), ("schedule.epochs=40", 2, 96.0)]
    table = markdown_table(rows)
    assert "| setting |" in table and "| schedule.epochs=1 | 1 |" in table and "96.00 ± 1.41" in table
    labels = sorted(curve_settings([str(p) for p in sorted(tmp_path.iterdir())]))
    assert labels == ["resnet8 (CE) [schedule.epochs=1]", "resnet8 (CE) [schedule.epochs=40]"]


def test_run_names_folders_and_logging_do_not_split_a_setting(tmp_path):
    _run(tmp_path / "a", "x", ["experiment.seed=0", "logging.log_interval=5", "data.root=/one"], 50.0, val=40.0)
    _run(tmp_path / "b", "y", ["experiment.seed=1", "logging.log_interval=9", "data.root=/two"], 52.0, val=44.0)
    (row,) = group_runs(find_runs([str(tmp_path)]))
    assert row["seeds"] == 2 and row["setting"] == "" and row["val_mean"] == 42.0
    table = markdown_table([row])
    assert "| setting |" not in table and "last validation top-1 %" in table and "42.00 ± 2.83" in table
