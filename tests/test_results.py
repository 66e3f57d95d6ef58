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


def _student(root, teacher, taus, seed, val, test):
    name = f"{teacher}_{taus[0]}_{taus[1]}_s{seed}"
    return _run(root, name, [f"teacher.arch={teacher}", "teacher.checkpoint=t.ckpt", "distill.method=ats",
                             f"distill.tau_target={taus[0]}", f"distill.tau_wrong={taus[1]}", f"experiment.seed={seed}",
                             "data.val_per_class=5"], test, val=val)


def test_the_best_ts_and_ats_are_chosen_on_validation_and_compared_seed_by_seed(tmp_path):
    from ats_ms.results.selection import markdown, select
    # resnet20: TS 4 wins on validation (though TS 2 is better on test); ATS 4/2 wins on validation
    for seed, (v2, t2, v4, t4, va, ta, vb, tb) in enumerate([(60, 80, 70, 75, 72, 74, 50, 90),
                                                              (62, 82, 70, 76, 71, 77, 50, 90)]):
        _student(tmp_path, "resnet20", (2, 2), seed, v2, t2)
        _student(tmp_path, "resnet20", (4, 4), seed, v4, t4)
        _student(tmp_path, "resnet20", (4, 2), seed, va, ta)
        _student(tmp_path, "resnet20", (6, 3), seed, vb, tb)
    _student(tmp_path, "resnet56", (4, 4), 0, 50, 60)  # no ATS run for this teacher
    rows = {r["teacher"]: r for r in select(find_runs([str(tmp_path)]))}
    r = rows["resnet20"]
    assert (r["ts"]["tau_target"], r["ats"]["tau_target"], r["ats"]["tau_wrong"]) == (4, 4, 2)
    assert r["ts"]["test"][0] == 75.5 and r["paired"] == [(0, -1.0), (1, 1.0)] and r["cells"] == 4
    assert rows["resnet56"]["ats"] is None and rows["resnet56"]["paired"] == []
    table = markdown(list(rows.values()))
    assert "| resnet20 | resnet8 | 240 | 4 | 4/4 | 70.00 ± 0.00 | 75.50 ± 0.71 | 4/2 |" in table
    assert "-1.00 (seed 0), +1.00 (seed 1) | +0.00 |" in table


def test_settings_confirmed_with_more_seeds_are_chosen_on_the_seeds_every_candidate_has(tmp_path):
    """The whole grid with seed 0, the chosen pair again with seed 1: the choice rests on seed 0 alone."""
    from ats_ms.results.selection import select
    _student(tmp_path, "resnet8", (2, 2), 0, 70, 80)
    _student(tmp_path, "resnet8", (4, 4), 0, 60, 70)
    _student(tmp_path, "resnet8", (6, 6), 0, 68, 90)
    _student(tmp_path, "resnet8", (4, 2), 0, 65, 75)
    _student(tmp_path, "resnet8", (2, 2), 1, 50, 78)
    _student(tmp_path, "resnet8", (4, 2), 1, 66, 76)
    (row,) = select(find_runs([str(tmp_path)]))  # (2, 2) on seed 0's 70 %, not its two-seed mean of 60 %
    assert row["ts"]["tau_target"] == 2 and row["ts"]["seeds"] == [0, 1]
    assert row["paired"] == [(0, -5.0), (1, -2.0)]


def test_a_grid_confirmed_with_a_second_seed_and_a_shorter_schedule_is_one_heat_map(tmp_path):
    """Seed 0 over the whole grid, the chosen pair again with seed 1, the same pair on a shorter schedule: the
    full-schedule cells form one heat map (the twice-trained cells among them), the 15-epoch cells another."""
    from ats_ms.results.figures import heatmap_grids
    for taus in [(2, 2), (4, 4), (4, 2), (6, 3)]:
        _student(tmp_path, "resnet56", taus, 0, 60, 70)
    for taus in [(2, 2), (4, 2)]:
        _student(tmp_path, "resnet56", taus, 1, 62, 72)
        _run(tmp_path, f"short_{taus[0]}_{taus[1]}", ["teacher.arch=resnet56", "teacher.checkpoint=t.ckpt",
                                                      "distill.method=ats", f"distill.tau_target={taus[0]}",
                                                      f"distill.tau_wrong={taus[1]}", "schedule.epochs=15",
                                                      "data.val_per_class=5"], 50, val=50)
    grids = heatmap_grids(group_runs(find_runs([str(tmp_path)])), "last")
    assert {key: sorted(cells) for key, cells in grids.items()} == {
        ("resnet56", "resnet8", "schedule.epochs=15"): [(2, 2), (4, 2)],
        ("resnet56", "resnet8", "schedule.epochs=240"): [(2, 2), (4, 2), (4, 4), (6, 3)]}
    assert grids[("resnet56", "resnet8", "schedule.epochs=240")][(4, 2)] == 71.0


def test_a_sweep_point_at_equal_temperatures_is_labelled_ts(tmp_path):
    """A temperature grid runs every point as distill.method ats; the point 4/4 is temperature scaling."""
    _student(tmp_path, "resnet20", (4, 4), 0, 60, 70)
    _student(tmp_path, "resnet20", (4, 2), 0, 61, 71)
    rows = group_runs(find_runs([str(tmp_path)]))
    assert sorted((r["method"], r["tau_target"], r["tau_wrong"]) for r in rows) == [("ats", 4.0, 2.0), ("ts", 4.0, 4.0)]
    assert "| resnet20 | resnet8 | ts | 4 | 4 |" in markdown_table(rows)


def test_a_method_that_ignores_the_shared_temperatures_shows_none(tmp_path):
    """DIST and DKD have temperatures of their own; a table row of theirs must not show the ATS pair left in the
    config as if they had trained at it (ISATS reads tau_target and searches tau_wrong)."""
    _student(tmp_path, "resnet20", (4, 2), 0, 61, 71)
    for method in ("dist", "dkd", "isats"):
        _run(tmp_path, method, ["teacher.arch=resnet20", "teacher.checkpoint=t.ckpt", f"distill.method={method}",
                                "distill.tau_target=4", "distill.tau_wrong=2"], 70.0)
    grouped = group_runs(find_runs([str(tmp_path)]))
    rows = {r["method"]: (r["tau_target"], r["tau_wrong"], r["tau_student"]) for r in grouped}
    assert rows == {"ats": (4.0, 2.0, 1.0), "dist": (None, None, None), "dkd": (None, None, None),
                    "isats": (4.0, None, 1.0)}
    assert "| resnet20 | resnet8 | dist | - | - | - |" in markdown_table(grouped)


def test_select_and_a_validation_heat_map_say_why_they_have_nothing_to_show(tmp_path):
    import math
    import pytest
    from ats_ms.common.errors import AtsError
    from ats_ms.results.figures import heatmaps
    from ats_ms.results.selection import markdown, select
    for taus in ((4, 4), (4, 2)):  # a grid trained without a validation split
        _run(tmp_path / "grid", f"{taus[0]}_{taus[1]}", ["teacher.arch=resnet20", "teacher.checkpoint=t.ckpt",
                                                         "distill.method=ats", f"distill.tau_target={taus[0]}",
                                                         f"distill.tau_wrong={taus[1]}"], 70.0)
    runs = find_runs([str(tmp_path / "grid")])
    text = markdown(select(runs))
    assert "Nothing was chosen for resnet20 -> resnet8: none of its runs holds a validation split" in text
    rows = group_runs(runs)
    assert all(math.isnan(r["val_mean"]) for r in rows)
    with pytest.raises(AtsError, match="would be blank; none was written"):
        heatmaps(rows, str(tmp_path / "val.png"), metric="val")
    assert not list(tmp_path.glob("val*.png"))
    _run(tmp_path / "alone", "ce", [], 60.0)
    assert markdown(select(find_runs([str(tmp_path / "alone")]))).startswith("--select chose nothing")


def test_another_method_is_chosen_over_its_own_keys_and_drawn_where_two_vary(tmp_path):
    """DIST swept over beta x gamma beside a TS grid: its best setting chosen on validation, paired with the best
    TS seed by seed; its grid drawn as a heat map over the two keys."""
    from ats_ms.results.figures import method_grids
    from ats_ms.results.selection import markdown_others, select, select_others
    for taus, val, test in (((4, 4), 60, 70), ((2, 2), 62, 71)):
        _student(tmp_path, "resnet20", taus, 0, val, test)
    for beta, gamma, val, test in ((1, 1, 61, 72), (1, 2, 66, 73), (2, 1, 64, 75), (2, 2, 65, 74)):
        _run(tmp_path, f"dist_{beta}_{gamma}", ["teacher.arch=resnet20", "teacher.checkpoint=t.ckpt",
                                                "distill.method=dist", f"distill.dist.beta={beta}",
                                                f"distill.dist.gamma={gamma}", "data.val_per_class=5"], test, val=val)
    runs = find_runs([str(tmp_path)])
    (row,) = select_others(runs, select(runs))
    assert row["method"] == "dist" and row["cells"] == 4
    assert row["choice"]["setting"] == {"distill.dist.beta": 1.0, "distill.dist.gamma": 2.0}
    assert row["paired"] == [(0, 73.0 - 71.0)]  # against TS 2, the best TS on validation
    assert "| resnet20 | resnet8 | 240 | dist | 4 | dist.beta=1.0, dist.gamma=2.0 | 66.00 | 73.00 | +2.00 (seed 0) |" \
        in markdown_others([row])
    ((axes, cells),) = method_grids(group_runs(runs), "last").values()
    assert axes == ("distill.dist.beta", "distill.dist.gamma") and cells[(2.0, 1.0)] == 75.0
