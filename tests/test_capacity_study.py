"""The capacity study's pipeline end to end on digits, in minutes: a teacher on a class-balanced subset with a
validation split, a temperature grid of TS and ATS points in shared-teacher groups for two seeds, then the report
with the validation-chosen best TS / ATS, the paired differences and the heat map."""
import os

from ats_ms.config import load_config
from ats_ms.engine.trainer import train
from ats_ms.report import main as report_main
from ats_ms.experiments.grid import parse_grid
from ats_ms.experiments.sweep import run_sweep
from train_helpers import tiny_overrides

SUBSET = ["data.subset_per_class=40", "data.val_per_class=10", "data.batch_size=50"]


def test_a_small_capacity_study_runs_and_reports(tmp_path, capsys):
    out = str(tmp_path)
    train(load_config(None, tiny_overrides(out, "teacher", "resnet8", epochs=1) + SUBSET))
    teacher = os.path.join(out, "teacher", "last.ckpt")
    grid = parse_grid(["distill.tau_target,distill.tau_wrong=1:1,4:4,4:2,6:3"])
    extra = tiny_overrides(out, "student", "resnet8", epochs=1) + SUBSET + [
        "distill.method=ats", "teacher.arch=resnet8", f"teacher.checkpoint={teacher}"]
    _, results = run_sweep(None, grid, [0, 1], extra, shared_teacher=True, group_size=4)
    assert len(results["done"]) == 8 and not results["failed"]
    capsys.readouterr()
    assert report_main([os.path.join(out, "student"), "--select", "--heatmap", str(tmp_path / "grid.png"),
                        "--metric", "val"]) == 0
    printed = capsys.readouterr().out
    assert "last validation top-1 %" in printed and "| resnet8 | resnet8 | 1 | 4 |" in printed
    row = next(line for line in printed.splitlines() if line.startswith("| resnet8 | resnet8 | 1 | 4 |"))
    assert "(seed 0)" in row and "(seed 1)" in row  # the paired difference of both seeds
    assert os.path.getsize(tmp_path / "grid.png") > 1000
