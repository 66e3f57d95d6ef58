"""ats_ms.experiments.grid: axes over one key (a product) and over several keys at once (listed points); the points
of a sweep, validated before any trains (ats_ms.experiments.sweep.plan_points)."""
from ats_ms.experiments.grid import parse_grid, points


def test_a_product_of_single_key_axes():
    grid = parse_grid(["distill.tau_target=4,6", "distill.tau_wrong=2"])
    assert list(points(grid, [0, 1])) == [
        ("tau_target=4__tau_wrong=2__seed=0", ["distill.tau_target=4", "distill.tau_wrong=2", "experiment.seed=0"]),
        ("tau_target=4__tau_wrong=2__seed=1", ["distill.tau_target=4", "distill.tau_wrong=2", "experiment.seed=1"]),
        ("tau_target=6__tau_wrong=2__seed=0", ["distill.tau_target=6", "distill.tau_wrong=2", "experiment.seed=0"]),
        ("tau_target=6__tau_wrong=2__seed=1", ["distill.tau_target=6", "distill.tau_wrong=2", "experiment.seed=1"]),
    ]


def test_an_axis_over_two_keys_lists_points_not_a_product():
    grid = parse_grid(["distill.tau_target,distill.tau_wrong=4:4, 4:2,6:3", "optim.lr=0.1"])
    names = [name for name, _ in points(grid, [0])]
    assert names == ["tau_target=4__tau_wrong=4__lr=0.1__seed=0", "tau_target=4__tau_wrong=2__lr=0.1__seed=0",
                     "tau_target=6__tau_wrong=3__lr=0.1__seed=0"]
    assert dict(points(grid, [0]))[names[2]] == ["distill.tau_target=6", "distill.tau_wrong=3", "optim.lr=0.1",
                                                 "experiment.seed=0"]


def test_a_sweep_over_a_finished_runs_config_goes_beside_that_run(tmp_path, capsys):
    """The config of a finished run names that run's folder; its points must not be written inside it."""
    import os
    from ats_ms.experiments.sweep import plan_points
    run = tmp_path / "student_resnet8_ats"
    run.mkdir()
    (run / "config.yaml").write_text("experiment: {name: student_resnet8_ats, output_dir: %s}\n" % tmp_path)
    (run / "summary.json").write_text("{}")
    sweep_dir, planned = plan_points(str(run / "config.yaml"), parse_grid(["optim.lr=0.1,0.2"]), [0])
    assert sweep_dir == os.path.join(str(tmp_path), "student_resnet8_ats_sweep")
    assert {cfg.experiment.output_dir for _, cfg in planned} == {sweep_dir}
    assert "holds a run" in capsys.readouterr().out
    again, _ = plan_points(str(run / "config.yaml"), parse_grid(["optim.lr=0.1"]), [0])
    assert again == sweep_dir  # the same command continues the same sweep


def _refused(match, *args, **kwargs):
    import pytest
    from ats_ms.common.errors import ConfigError
    with pytest.raises(ConfigError, match=match):
        fn, rest = args[0], args[1:]
        result = fn(*rest, **kwargs)
        list(result) if result is not None else None


def test_a_key_on_two_axes_or_on_an_axis_and_an_override_is_refused_naming_both():
    _refused(r"distill.tau_target is on two --grid axes \('distill.tau_target=4,6' and 'distill.tau_target,"
             r"distill.tau_wrong=2:1'\)", parse_grid, ["distill.tau_target=4,6", "distill.tau_target,distill.tau_wrong=2:1"])
    from ats_ms.experiments.grid import check_overrides
    _refused(r"distill.tau_wrong is on a --grid axis and also set by the override 'distill.tau_wrong=1'",
             check_overrides, parse_grid(["distill.tau_wrong=2,3"]), ["optim.lr=0.1", "distill.tau_wrong=1"])


def test_repeated_points_and_seeds_are_refused():
    _refused(r"lists the same point twice \('4:2' and '4:2'\)", parse_grid,
             ["distill.tau_target,distill.tau_wrong=4:2,4:2"])
    _refused(r"lists the same point twice \('0.1' and '1e-1'\)", parse_grid, ["optim.lr=0.1,1e-1"])
    from ats_ms.experiments.grid import check_seeds
    _refused("lists seed 0 more than once", check_seeds, [0, 1, 0])


def test_values_a_folder_name_cannot_hold_still_give_every_point_its_own_folder():
    grid = parse_grid(["teacher.checkpoint=/x/a/best.ckpt,/x/a_best.ckpt,plain.ckpt"])
    names = [name for name, _ in points(grid, [0])]
    assert len(set(names)) == 3 and names[2] == "checkpoint=plain.ckpt__seed=0"
    assert names[0].startswith("checkpoint=_x_a_best.ckpt~") and names[1].startswith("checkpoint=_x_a_best.ckpt~")
    two = parse_grid(["distill.dkd.alpha=1", "distill.isats.alpha=2"])  # keys that share their last part
    assert [name for name, _ in points(two, [0])] == ["distill.dkd.alpha=1__distill.isats.alpha=2__seed=0"]


def test_a_grid_may_be_the_only_place_that_names_the_teacher(tmp_path):
    import os
    from ats_ms.experiments.sweep import plan_points
    from conftest import REPO
    config = os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml")
    grid = parse_grid(["teacher.arch,teacher.checkpoint=resnet8:/x/a/best.ckpt,resnet14:/x/a_best.ckpt"])
    _, planned = plan_points(config, grid, [0], ["distill.method=ats", f"experiment.output_dir={tmp_path}"])
    assert [(cfg.teacher.arch, cfg.teacher.checkpoint) for _, cfg in planned] == [
        ("resnet8", "/x/a/best.ckpt"), ("resnet14", "/x/a_best.ckpt")]
    assert len({cfg.experiment.name for _, cfg in planned}) == 2
