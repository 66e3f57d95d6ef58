"""The CIFAR-100 capacity study's pipeline at toy size on the real CIFAR-100 pixels (the shared PNGs; skipped without
them), with the shipped study configs: a teacher trained by ats_ms, the teachers' analysis on the images the students
distil on, a TS / ATS grid in one shared-teacher group with flip-only augmentation from cached teacher logits, the
choice on validation, the chosen pair again with another seed, the student alone, and the report's tables and heat
maps rebuilt from the run folders.  It checks the pipeline, not the method."""
import json
import os
import subprocess
import sys

import pytest

from conftest import SHARED

TAR = os.path.join(SHARED, "data", "cifar100-png.tar.gz")
TOOL = os.path.join(SHARED, "tools", "cifar_png_to_official.py")
pytestmark = pytest.mark.skipif(not (os.path.isfile(TAR) and os.path.isfile(TOOL)),
                                reason="needs the shared CIFAR-100 PNGs (../shared/data/cifar100-png.tar.gz)")

# toy size: 6 images of each of the 100 classes (2 of them validation), 200 test images, 1-epoch schedules
TOY = ["data.format=python", "data.subset_per_class=6", "data.val_per_class=2", "data.test_samples=200", "data.batch_size=50",
       "data.eval_batch_size=200", "schedule.epochs=1", "schedule.warmup_epochs=0", "schedule.milestones=[]",
       "logging.log_interval=4", "logging.eval_interval=1"]


def _run(module, args, cwd):
    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.run([sys.executable, "-m", module] + args, capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)
    assert proc.returncode == 0, (module, args, proc.stdout[-2500:], proc.stderr[-2500:])
    return proc.stdout


def test_the_cifar100_study_pipeline_at_toy_size(tmp_path):
    data = tmp_path / "data"
    subprocess.run([sys.executable, TOOL, str(data), "--tar", TAR, "--limit-train-per-class", "6"], check=True,
                   capture_output=True)
    root = f"data.root={data}"
    work = tmp_path / "work"
    work.mkdir()
    runs = work / "runs" / "cifar100" / "capacity_fit"
    # part 1: a teacher by ats_ms (here on the toy training images), then the analysis of the students' images
    _run("ats_ms.train", ["--config", "cifar100/capacity_fit/teacher_resnet14", root, "model.arch=resnet8",
                          *TOY, "data.subset_per_class=null", "data.val_per_class=0"], work)
    teacher = runs / "teacher_resnet14" / "last.ckpt"
    analysis = _run("ats_ms.analyze", ["--config", "cifar100/capacity_fit/resnet8_ce", "--split", "train,test",
                                       "--output", str(runs / "analysis"), root, *TOY,
                                       "--teacher", f"small=resnet8:{teacher}"], work)
    assert "train small: top1" in analysis
    report = json.load(open(runs / "analysis" / "analysis.json"))
    assert report["train"]["images"] == 400 and report["test"]["images"] == 200
    # part 2: the grid in one shared-teacher group, flips only, the teacher's logits cached for both views
    flips = ["data.crop_padding=0", "distill.cache_teacher_logits=true", "teacher.arch=resnet8",
             f"teacher.checkpoint={teacher}"]
    grid = "distill.tau_target,distill.tau_wrong=2:2,4:4,4:2,6:3"
    out = _run("ats_ms.sweep", ["--config", "cifar100/capacity_fit/resnet14_to_resnet8", "--seeds", "0",
                                "--shared-teacher", "--group-size", "4", "--grid", grid, "--", root, *TOY, *flips], work)
    assert "4 trained here" in out
    log = open(runs / "resnet14_to_resnet8" / "tau_target=4__tau_wrong=2__seed=0" / "train.log").read()
    assert "of each image and its mirror image" in log and "x 4 (same initial weights, same batches)" in log
    _run("ats_ms.sweep", ["--config", "cifar100/capacity_fit/resnet8_ce", "--seeds", "0,1", "--", root, *TOY], work)
    # part 3: the choice on validation, the chosen pair with another seed
    selected = _run("ats_ms.report", [str(runs / "resnet14_to_resnet8"), "--select", "--output",
                                      str(work / "chosen.json")], work)
    rows = json.load(open(work / "chosen.json"))
    assert {r["method"] for r in rows} == {"ts", "ats"} and "best TS" in selected
    from ats_ms.results.runs import find_runs
    from ats_ms.results.selection import select
    (choice,) = select(find_runs([str(runs / "resnet14_to_resnet8")]))
    pairs = ",".join(f"{choice[k]['tau_target']:g}:{choice[k]['tau_wrong']:g}" for k in ("ts", "ats"))
    _run("ats_ms.sweep", ["--config", "cifar100/capacity_fit/resnet14_to_resnet8", "--seeds", "1", "--shared-teacher",
                          "--grid", f"distill.tau_target,distill.tau_wrong={pairs}", "--", root, *TOY, *flips], work)
    # every table and figure rebuilt from the run folders
    figures = work / "figures"
    figures.mkdir()
    final = _run("ats_ms.report", [str(runs), "--select", "--heatmap", str(work / "grid.png"), "--metric", "val",
                                   "--output", str(work / "results.md"), "--figures", str(figures)], work)
    row = next(line for line in final.splitlines() if line.startswith("| resnet8 | resnet8 | 1 | 4 |"))
    assert "(seed 0)" in row and "(seed 1)" in row
    assert "| cifar100 | - | resnet8 | none |" in final  # the student alone, two seeds
    assert os.path.getsize(work / "grid.png") > 1000 and (work / "results.md").read_text().strip() in final
    assert "## Teachers analysed in" in final and "| small |" in final  # the teachers' table, from analysis.json
    assert (figures / "sigma_q_vs_tau_capacity_fit_train.png").stat().st_size > 1000
