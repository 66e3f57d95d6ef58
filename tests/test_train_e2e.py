"""End to end on CPU: a teacher, TS and ATS students from it, evaluation and export."""
import json
import os
import stat

import numpy as np
import pytest
import yaml

import mindspore as ms

from ats_ms.config import load_config
from ats_ms.engine.trainer import train
from ats_ms.common.errors import CheckpointError, ConfigError, RunFolderError
from ats_ms.models import create_model
from train_helpers import REPO, run_cli, tiny_overrides


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs"))
    summary = train(load_config(None, tiny_overrides(out, "teacher", "resnet14", epochs=3)))
    return out, summary


def _lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_teacher_run_writes_everything(teacher_run):
    out, summary = teacher_run
    run = os.path.join(out, "teacher")
    for name in ("config.yaml", "env.json", "classes.json", "train.log", "metrics.jsonl", "best.ckpt", "last.ckpt",
                 "train_state.ckpt", "summary.json"):
        assert os.path.isfile(os.path.join(run, name)), name
    assert summary["best_top1"] > 50 and summary["steps"] == 3 * (1438 // 64)  # chance is 10 %
    evals = [m for m in _lines(os.path.join(run, "metrics.jsonl")) if m["type"] == "eval"]
    assert [m["epoch"] for m in evals] == [1, 2, 3] and all(m["count"] == 359 for m in evals)
    saved = yaml.safe_load(open(os.path.join(run, "config.yaml")))
    assert saved["model"]["arch"] == "resnet14" and saved["optim"]["weight_decay"] == 5e-4
    env = json.load(open(os.path.join(run, "env.json")))
    assert env["versions"]["mindspore"] == ms.__version__ and env["seed"] == 0
    log = open(os.path.join(run, "train.log")).read()
    assert "loss" in log and "img/s" in log and "eta" in log


def test_student_checkpoint_loads_without_renaming(teacher_run):
    out, _ = teacher_run
    net = create_model("resnet14", 10)
    not_loaded, _ = ms.load_param_into_net(net, ms.load_checkpoint(os.path.join(out, "teacher", "best.ckpt")))
    assert not_loaded == []


def test_same_seed_runs_are_bitwise_identical_on_cpu(teacher_run, tmp_path):
    """Same config, seed, machine and MindSpore version on CPU: the same weights, bit for bit, and the same
    numbers in every epoch record (a distillation, so the teacher's forward pass is covered too)."""
    out, _ = teacher_run
    kd = {"distill.method": "ats", "teacher.arch": "resnet14", "teacher.checkpoint": os.path.join(out, "teacher", "best.ckpt"),
          "data.train_samples": 256, "logging.eval_teacher": "false"}
    runs = [train(load_config(None, tiny_overrides(str(tmp_path), name, epochs=2, **kd))) for name in ("a", "b")]
    assert runs[0]["student_checksum"] == runs[1]["student_checksum"]
    records = [[{k: v for k, v in r.items() if k not in ("images_per_s", "time")}
                for r in _lines(os.path.join(tmp_path, name, "metrics.jsonl"))] for name in ("a", "b")]
    assert records[0] == records[1] and len(records[0]) == 2


@pytest.mark.parametrize("method,tau_wrong", [("ts", 4.0), ("ats", 2.0)])
def test_students_distil_from_the_teacher(teacher_run, method, tau_wrong):
    out, teacher_summary = teacher_run
    teacher_ckpt = os.path.join(out, "teacher", "best.ckpt")
    before = ms.load_checkpoint(teacher_ckpt)["layer1.0.bn1.moving_mean"].asnumpy().copy()
    summary = train(load_config(None, tiny_overrides(
        out, f"student_{method}", "resnet8", epochs=2, **{"distill.method": method, "teacher.arch": "resnet14",
                                                          "teacher.checkpoint": teacher_ckpt,
                                                          "distill.tau_wrong": tau_wrong})))
    run = os.path.join(out, f"student_{method}")
    assert summary["best_top1"] > 30 and summary["method"] == method
    records = _lines(os.path.join(run, "metrics.jsonl"))
    teacher_eval = [r for r in records if r["type"] == "teacher_eval"]
    assert len(teacher_eval) == 1 and abs(teacher_eval[0]["top1"] - teacher_summary["best_top1"]) < 1e-6
    log = open(os.path.join(run, "train.log")).read()
    assert "kd" in log
    _assert_setup_block(log, method, tau_wrong, teacher_ckpt)
    np.testing.assert_array_equal(ms.load_checkpoint(teacher_ckpt)["layer1.0.bn1.moving_mean"].asnumpy(), before)


# RepDistiller's published counts with 100 classes (tests/test_models.py), less the classifier's 64 x 90 weights and 90 biases for 10 classes.
PUBLISHED_PARAMS_10_CLASSES = {"resnet8": 83_892 - 64 * 90 - 90, "resnet14": 181_108 - 64 * 90 - 90}


def _assert_setup_block(log, method, tau_wrong, teacher_ckpt):
    """The block printed before training names what the user asked for; parameter counts are the
    architectures' trainable parameters (RepDistiller's counts), also for a teacher whose BatchNorms were folded."""
    steps = 1438 // 64
    for line in ("data      digits from ",
                 f"train 1,438 images ({steps} steps of 64), test 359; augment on",
                 f"student   resnet8 ({PUBLISHED_PARAMS_10_CLASSES['resnet8']:,} parameters, padding",
                 f"teacher   resnet14 ({PUBLISHED_PARAMS_10_CLASSES['resnet14']:,} parameters) from {teacher_ckpt}; "
                 "frozen, BatchNorm folded",
                 f"method    {method}: tau_target 4, tau_wrong {tau_wrong:g}, tau_student 1",
                 "optimizer sgd lr 0.05 (global batch 64), momentum 0.9, weight decay 0.0005",
                 f"schedule  no warm-up, then constant; 2 epochs x {steps} steps = {2 * steps} steps",
                 "device    CPU, graph mode, AMP O0, 1 device(s), seed 0"):
        assert line in log, (line, log[:3000])


def test_checkpoints_are_ordinary_files(teacher_run):
    """MindSpore writes checkpoints read-only (0400), so a plain rm of a run folder would ask about each one."""
    run = os.path.join(teacher_run[0], "teacher")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("best.ckpt", "last.ckpt", "train_state.ckpt", "summary.json"):
        assert stat.S_IMODE(os.stat(os.path.join(run, name)).st_mode) == 0o666 & ~umask, name


def test_eval_and_export_round_trip(teacher_run, tmp_path):
    out, summary = teacher_run
    run = os.path.join(out, "teacher")
    proc = run_cli("ats_ms.eval", ["--config", f"{run}/config.yaml", "--checkpoint", f"{run}/best.ckpt",
                                   "--per-class", "--output", str(tmp_path / "e.json")])
    assert proc.returncode == 0, proc.stderr
    result = json.load(open(tmp_path / "e.json"))
    assert result["count"] == 359 and abs(result["top1"] - summary["best_top1"]) < 1e-6
    assert len(result["per_class"]) == 10 and f"top1 {summary['best_top1']:.2f}" in proc.stdout
    assert sum(result["per_class_count"]) == 359
    lines = proc.stdout.splitlines()
    header = lines.index("per-class top-1 on the test split:")
    assert lines[header + 1].split() == ["class", "top-1", "%", "images"] and len(lines) == header + 12
    first = lines[header + 2].split()  # digits' class names are 0..9
    assert first[0] == "0" and float(first[1]) == result["per_class"][0] and int(first[2]) == result["per_class_count"][0]
    proc = run_cli("ats_ms.export", ["--config", f"{run}/config.yaml", "--checkpoint", f"{run}/best.ckpt",
                                     "--output", str(tmp_path / "teacher.mindir")])
    assert proc.returncode == 0, proc.stderr
    assert os.path.getsize(tmp_path / "teacher.mindir") > 10000 and "max |logit difference|" in proc.stdout
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "teacher.mindir").st_mode) == 0o666 & ~umask  # an ordinary file, not 0400
    graph = ms.nn.GraphCell(ms.load(str(tmp_path / "teacher.mindir")))
    assert graph(ms.Tensor(np.zeros((1, 3, 8, 8), np.float32))).shape == (1, 10)


def test_wrong_teacher_checkpoint_and_existing_run_are_refused(teacher_run):
    out, _ = teacher_run
    teacher_ckpt = os.path.join(out, "teacher", "best.ckpt")
    with pytest.raises(CheckpointError, match="does not fit the network for 'resnet20'.*written for 'resnet14'"):
        train(load_config(None, tiny_overrides(out, "bad_teacher", epochs=1, **{
            "distill.method": "ats", "teacher.arch": "resnet20", "teacher.checkpoint": teacher_ckpt})))
    with pytest.raises(RunFolderError, match="already holds a finished run.*--resume"):
        train(load_config(None, tiny_overrides(out, "teacher", "resnet14", epochs=3)))
    with pytest.raises(ConfigError, match="model.num_classes is 5"):
        train(load_config(None, tiny_overrides(out, "few_classes", epochs=1, **{"model.num_classes": 5})))


def test_cifar_training_path_on_fixture_files(tmp_path):
    """The CIFAR reader, 32x32 augmentation and a distillation run end to end on tiny real-format files."""
    from cifar_fixtures import random_split, write_binary
    root = str(tmp_path / "data")
    write_binary(root, "cifar100", random_split(96, 100, 1), random_split(20, 100, 2))
    common = {"data.name": "cifar100", "data.root": root, "data.train_samples": 96, "data.test_samples": 20,
              "data.batch_size": 32}
    teacher = train(load_config(None, tiny_overrides(str(tmp_path), "t", "resnet8", epochs=1, **common)))
    assert teacher["steps"] == 3 and teacher["test_images"] == 20
    student = train(load_config(None, tiny_overrides(str(tmp_path), "s", "vgg8", epochs=1, **common, **{
        "distill.method": "ats", "teacher.arch": "resnet8", "teacher.checkpoint": f"{tmp_path}/t/best.ckpt"})))
    assert student["steps"] == 3 and student["last_top1"] is not None


def test_cifar10_short_recipe_runs_as_shipped(tmp_path, monkeypatch):
    """The README's real-data commands, on tiny real-format CIFAR-10 files: the teacher config, then the ATS
    student config, which finds the teacher's checkpoint at the path the teacher config writes. Only the
    data root, the number of images and the epochs are overridden."""
    from cifar_fixtures import random_split, write_binary
    write_binary(str(tmp_path / "data"), "cifar10", random_split(128, 10, 1), random_split(20, 10, 2))
    monkeypatch.chdir(tmp_path)  # the recipe's run folders are relative: runs/cifar10/short/...
    small = ["data.root=data", "data.train_samples=128", "data.test_samples=20", "schedule.epochs=1"]
    short = os.path.join(REPO, "configs", "cifar10", "short")
    teacher = train(load_config(os.path.join(short, "teacher_resnet20.yaml"), small))
    assert teacher["arch"] == "resnet20" and teacher["steps"] == 1 and teacher["test_images"] == 20
    assert os.path.isfile("runs/cifar10/short/teacher_resnet20/best.ckpt")
    student = train(load_config(os.path.join(short, "resnet20_to_resnet8", "ats.yaml"), small))
    assert (student["arch"], student["teacher"], student["method"]) == ("resnet8", "resnet20", "ats")
    assert (student["tau_target"], student["tau_wrong"], student["steps"]) == (4.0, 2.0, 1)
    teacher_eval = [r for r in _lines("runs/cifar10/short/resnet20_to_resnet8_ats/metrics.jsonl")
                    if r["type"] == "teacher_eval"]
    assert len(teacher_eval) == 1 and abs(teacher_eval[0]["top1"] - teacher["best_top1"]) < 1e-6


def test_amp_o2_distillation_with_dynamic_loss_scale(teacher_run):
    """AMP as on GPU (O2, fp16 weights, BatchNorm and losses in fp32), here on CPU where it runs but is slow."""
    out, _ = teacher_run
    summary = train(load_config(None, tiny_overrides(out, "amp", "resnet8", epochs=1, **{
        "runtime.amp_level": "O2", "distill.method": "ats", "teacher.arch": "resnet14",
        "teacher.checkpoint": os.path.join(out, "teacher", "best.ckpt")})))
    assert summary["best_top1"] > 20
    state = ms.load_checkpoint(os.path.join(out, "amp", "train_state.ckpt"))
    assert "loss_scale" in state and float(state["loss_scale"].asnumpy()) >= 1.0
    not_loaded, _ = ms.load_param_into_net(create_model("resnet8", 10),
                                           ms.load_checkpoint(os.path.join(out, "amp", "best.ckpt")))
    assert not_loaded == []


def test_amp_auto_is_fp32_on_cpu_and_recommended_elsewhere():
    from ats_ms.engine.runtime import amp_level
    cfg = load_config(None, [])
    assert cfg.runtime.amp_level == "auto" and amp_level(cfg.runtime) == "O0"
    assert amp_level(load_config(None, ["runtime.device_target=GPU"]).runtime) == "O2"
    assert amp_level(load_config(None, ["runtime.device_target=Ascend"]).runtime) == "O3"
