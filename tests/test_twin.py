"""``python -m ats_ms.twin``: a run trained in ats_ms and in PyTorch from the same weights on the same batches agrees
step by step (the first step's loss and gradients to float32 rounding), for every covered method, on digits and on
CIFAR-shaped data; what it does not cover is refused."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ats_ms.config import load_config
from ats_ms.engine import checkpoint as ckpt
from ats_ms.engine.trainer import train
from ats_ms.models import create_model
from cifar_fixtures import random_split, write_binary
from train_helpers import REPO, tiny_overrides

pytestmark = pytest.mark.torch  # needs PyTorch: skipped without it, run by CI's torch job
pytest.importorskip("torch", reason="the PyTorch twin needs the torch extra")
from ats_ms.twin.compare import Twin  # noqa: E402

SMALL = ["data.train_samples=192", "data.batch_size=64", "logging.eval_interval=2"]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("twin_teacher"))
    train(load_config(None, tiny_overrides(out, "t", "resnet8", epochs=1) + ["data.train_samples=256"]))
    return os.path.join(out, "t", "last.ckpt")


def _student(out, teacher, *extra):
    return load_config(None, tiny_overrides(out, "s", "resnet8", epochs=2) + SMALL + [
        "teacher.arch=resnet8", f"teacher.checkpoint={teacher}", *extra])


def _agrees(report):
    first = report["first_step"]
    assert first["loss_difference"] < 1e-5 and first["gradient_max_relative_difference"] < 1e-4, first
    assert first["gradient_norm_relative_difference"] < 1e-2, first  # reported beside the elementwise figure
    assert report["lr_max_difference"] < 1e-7
    # PyTorch runs its own oneDNN with the CPU's best kernels while MindSpore's here is capped at AVX2: float32 sums
    # in another order, which ten steps of training amplify to ~1e-3 in the loss on some runs (still a port check:
    # a wrong loss or update is off by far more)
    assert report["loss_difference_first_10_steps_max"] < 2e-3, report["loss_difference_first_10_steps_max"]
    assert abs(report["final_top1_mindspore"] - report["final_top1_pytorch"]) <= 1.0


@pytest.mark.parametrize("extra", [
    ["distill.method=ats", "distill.tau_target=4", "distill.tau_wrong=2"],
    ["distill.method=ts", "distill.tau_target=4", "distill.tau_wrong=4", "distill.form=kl"],
    ["distill.method=dkd", "distill.ce_weight=1.0", "distill.dkd.warmup_epochs=2"],
    ["distill.method=none", "distill.label_smoothing=0.1"],
    ["distill.method=ats", "optim.nesterov=true", "schedule.policy=cosine", "schedule.warmup_epochs=1"],
])
def test_each_method_agrees_with_its_pytorch_twin_on_digits(tmp_path, teacher, extra):
    report = Twin(_student(str(tmp_path), teacher, *extra)).train(progress_every=0)
    _agrees(report)
    assert report["steps"] == 2 * 3 and [e["epoch"] for e in report["evaluations"]] == [2]


@pytest.mark.parametrize("conv", ["builtin", "onednn"])
def test_cifar_shaped_data_and_another_teacher_family(tmp_path, conv):
    """32x32 CIFAR files, augmented, and a WRN teacher (random weights: the twin compares ports, not teachers).
    Both convolutions are float32-exact (ats_ms's oneDNN one gives the very weight gradients of PyTorch's CPU
    convolution, docs/performance.md), but a ReLU unit whose input lies within rounding of 0 may land on the other
    side in one framework and move a few gradient entries by their full size (PyTorch in this process runs oneDNN's
    best kernels, ats_ms capped or not): the whole-network figure stays within 1e-3, the elementwise worst case is
    only bounded, and a wrong gradient would be off by O(1)."""
    root = str(tmp_path / "cifar")
    write_binary(root, "cifar10", random_split(96, 10, 1), random_split(40, 10, 2))
    net = create_model("wrn_16_1", 10)
    teacher = str(tmp_path / "wrn.ckpt")
    ckpt.save_weights(net, teacher, {"arch": "wrn_16_1", "num_classes": 10})
    cfg = load_config(None, [f"experiment.output_dir={tmp_path}", "experiment.name=c", "data.name=cifar10",
                             f"data.root={root}", "data.train_samples=96", "data.test_samples=40", "data.batch_size=32",
                             "model.arch=resnet8", "teacher.arch=wrn_16_1", f"teacher.checkpoint={teacher}",
                             "distill.method=ats", "schedule.epochs=1", "schedule.warmup_epochs=0",
                             "schedule.milestones=[]", f"runtime.cpu_conv={conv}"])
    report = Twin(cfg).train(progress_every=0)
    first = report["first_step"]
    assert first["loss_difference"] < 1e-5 and first["gradient_norm_relative_difference"] < 1e-3, first
    assert first["gradient_max_relative_difference"] < 1e-2, first
    assert report["loss_difference_first_10_steps_max"] < 1e-3


def test_the_command_writes_its_report_and_refuses_what_it_does_not_cover(tmp_path, teacher):
    base = tiny_overrides(str(tmp_path), "s", "resnet8", epochs=1) + SMALL + [
        "teacher.arch=resnet8", f"teacher.checkpoint={teacher}", "distill.method=ats"]
    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.run([sys.executable, "-m", "ats_ms.twin", "--output", str(tmp_path / "tw")] + base,
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first step: loss ats_ms" in proc.stdout and "test top-1 ats_ms" in proc.stdout
    report = json.load(open(tmp_path / "tw" / "twin.json"))
    assert len(report["losses_mindspore"]) == len(report["losses_pytorch"]) == 3
    assert report["config"]["distill"]["method"] == "ats" and not os.path.exists(tmp_path / "s")  # no run folder
    refused = subprocess.run([sys.executable, "-m", "ats_ms.twin"] + base + ["distill.method=isats"],
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert refused.returncode == 2 and "not 'isats'" in refused.stderr and "Traceback" not in refused.stderr
    assert np.isfinite(report["loss_difference_max"])


def test_an_output_it_cannot_write_is_refused_before_training(tmp_path, teacher):
    base = tiny_overrides(str(tmp_path), "s", "resnet8", epochs=1) + SMALL + [
        "teacher.arch=resnet8", f"teacher.checkpoint={teacher}", "distill.method=ats"]
    env = dict(os.environ, GLOG_v="3")
    existing = tmp_path / "report.json"
    existing.write_text("{}")
    for output, message in ((existing, "is a file; it must be a folder"), (existing / "sub", "cannot be created")):
        proc = subprocess.run([sys.executable, "-m", "ats_ms.twin", "--output", str(output)] + base,
                              capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
        assert proc.returncode == 2 and message in " ".join(proc.stderr.split()), proc.stderr[-2000:]
        assert "twin epoch" not in proc.stdout and "Traceback" not in proc.stderr  # nothing was trained
    assert existing.read_text() == "{}"
