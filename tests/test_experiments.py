"""Sweep, teacher-assistant chain and report commands on tiny digits runs."""
import json
import os

import pytest
import yaml

from ats_ms.experiments.chain import run_chain
from ats_ms.engine.trainer import train
from ats_ms.report import main as report_main
from ats_ms.experiments.grid import parse_grid
from ats_ms.experiments.sweep import run_sweep
from conftest import REPO
from train_helpers import tiny_overrides

QUICK = os.path.join(REPO, "configs", "quickstart")


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("sweep_teacher"))
    train(__import__("ats_ms.config", fromlist=["load_config"]).load_config(
        None, tiny_overrides(out, "t", "resnet8", epochs=1)))
    return os.path.join(out, "t", "best.ckpt")


def _sweep(tmp_path, teacher_ckpt, seeds, dry_run=False):
    extra = tiny_overrides(str(tmp_path), "grid", "resnet8", epochs=1) + [
        "teacher.arch=resnet8", f"teacher.checkpoint={teacher_ckpt}", "data.train_samples=256"]
    return run_sweep(os.path.join(QUICK, "digits_student_ats.yaml"),
                     parse_grid(["distill.tau_target=4", "distill.tau_wrong=1,2"]), seeds, extra, dry_run)


def test_sweep_runs_skips_and_reports(tmp_path, teacher_ckpt, capsys):
    sweep_dir, results = _sweep(tmp_path, teacher_ckpt, [0])
    assert len(results["done"]) == 2 and not results["failed"]
    assert sorted(os.listdir(sweep_dir)) == [f"tau_target=4__tau_wrong={b}__seed=0" for b in (1, 2)]
    cfg = yaml.safe_load(open(os.path.join(sweep_dir, sorted(os.listdir(sweep_dir))[1], "config.yaml")))
    assert (cfg["distill"]["tau_target"], cfg["distill"]["tau_wrong"]) == (4.0, 2.0)
    # the same command again: every point is finished and skipped; a second seed adds 2 new points
    _, again = _sweep(tmp_path, teacher_ckpt, [0, 1])
    assert len(again["skipped"]) == 2 and len(again["done"]) == 2
    capsys.readouterr()
    _sweep(tmp_path, teacher_ckpt, [0, 1], dry_run=True)
    assert capsys.readouterr().out.count(": finished") == 4

    md, heat, js = tmp_path / "r.md", tmp_path / "fig10.png", tmp_path / "r.json"
    assert report_main([sweep_dir, "--output", str(md), "--heatmap", str(heat), "--output", str(js)]) == 0
    rows = json.load(open(js))
    assert len(rows) == 2 and all(r["seeds"] == 2 and r["teacher"] == "resnet8" for r in rows)
    summaries = [json.load(open(os.path.join(sweep_dir, d, "summary.json"))) for d in os.listdir(sweep_dir)
                 if d.startswith("tau_target=4__tau_wrong=2__")]
    row = [r for r in rows if (r["tau_target"], r["tau_wrong"]) == (4.0, 2.0)][0]
    assert abs(row["best_mean"] - sum(s["best_top1"] for s in summaries) / 2) < 1e-9
    text = md.read_text()
    assert "| digits | resnet8 | resnet8 | ats | 4 | 2 | 1 | 2 |" in text and "±" in text
    assert heat.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_teacher_assistant_chain(tmp_path):
    chain = tmp_path / "chain.yaml"
    chain.write_text(yaml.safe_dump({
        "name": "ta", "output_dir": str(tmp_path / "runs"),
        "stages": [{"config": os.path.join(QUICK, "digits_teacher.yaml"), "overrides": ["model.arch=resnet14"]},
                   {"config": os.path.join(QUICK, "digits_student_ce.yaml"), "overrides": ["model.arch=resnet8"]},
                   {"config": os.path.join(QUICK, "digits_student_ats.yaml"), "overrides": ["model.arch=vgg8"]}]}))
    short = ["schedule.epochs=1", "schedule.warmup_epochs=0", "schedule.milestones=[]", "data.train_samples=256"]
    root, summaries = run_chain(str(chain), short)
    assert [s["arch"] for s in summaries] == ["resnet14", "resnet8", "vgg8"]
    assert [s["method"] for s in summaries] == ["none", "ats", "ats"]
    stage2 = yaml.safe_load(open(os.path.join(root, "2_vgg8", "config.yaml")))
    assert stage2["teacher"] == {"arch": "resnet8", "checkpoint": os.path.join(root, "1_resnet8", "best.ckpt"),
                                 "padding": "auto", "conv_bias": None, "mean": None, "std": None}
    _, again = run_chain(str(chain), short)
    assert again == []  # every stage already finished
