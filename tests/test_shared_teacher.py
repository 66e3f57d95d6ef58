"""Multi-student distillation: K students of one teacher in one run, on the same batches, from the same
initial weights, with one teacher forward per batch; each student with its own run folder."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import mindspore as ms

from ats_ms.config import load_config
from ats_ms.engine.trainer import train, train_group
from ats_ms.common.errors import ConfigError
from ats_ms.models import create_model
from conftest import REPO
from train_helpers import tiny_overrides

SMALL = ["data.train_samples=256", "logging.log_interval=1"]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("shared_teacher"))
    train(load_config(None, tiny_overrides(out, "t", "resnet14", epochs=2) + SMALL))
    return os.path.join(out, "t", "best.ckpt")


def _cfg(out, name, teacher, method="ats", tau_target=4, tau_wrong=2, epochs=2, extra=()):
    args = tiny_overrides(out, name, epochs=epochs) + SMALL + [
        f"distill.method={method}", f"distill.tau_target={tau_target}", f"distill.tau_wrong={tau_wrong}"]
    if method != "none":
        args += ["teacher.arch=resnet14", f"teacher.checkpoint={teacher}"]
    return load_config(None, args + list(extra))


def _steps(run):
    """Per-step loss terms from train.log (log_interval 1)."""
    values = []
    for line in open(os.path.join(run, "train.log")):
        if " img/s " in line and " loss " in line:
            parts = line.split(" loss ")[1].split(" lr ")[0].split()
            values.append([float(v) for v in parts[0::2]])
    return np.array(values)


def _evals(run):
    return [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl")) if '"eval"' in line]


def test_a_group_trains_each_student_exactly_as_a_separate_run(tmp_path, teacher):
    """Two students (TS and ATS) in one group vs. the same two trained separately with the same seed: the
    same batches, the same initial weights, and per-student gradients equal to their own loss's, so the
    per-step losses and the evaluations agree."""
    out = str(tmp_path)
    separate = [train(_cfg(out, "alone_ts", teacher, "ts", 4, 4)), train(_cfg(out, "alone_ats", teacher))]
    grouped = train_group([_cfg(out, "group_ts", teacher, "ts", 4, 4), _cfg(out, "group_ats", teacher)])
    for alone, together in (("alone_ts", "group_ts"), ("alone_ats", "group_ats")):
        a, b = _steps(os.path.join(out, alone)), _steps(os.path.join(out, together))
        assert a.shape == b.shape == (8, 3)
        np.testing.assert_allclose(b[:3], a[:3], rtol=1e-5, atol=1e-6)  # the first steps, to float tolerance
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)
        ea, eb = _evals(os.path.join(out, alone)), _evals(os.path.join(out, together))
        assert [r["top1"] for r in eb] == pytest.approx([r["top1"] for r in ea], abs=0.6)  # at most 2 of 359 images
    assert [s["steps"] for s in grouped] == [s["steps"] for s in separate] == [8, 8]
    for summary in grouped:  # each student's folder is a complete run, marked as one group
        run = summary["run_dir"]
        assert sorted(summary["shared_teacher_group"]) == sorted([os.path.join(out, "group_ts"),
                                                                   os.path.join(out, "group_ats")])
        for name in ("config.yaml", "env.json", "metrics.jsonl", "best.ckpt", "last.ckpt", "train_state.ckpt",
                     "summary.json", "train.log"):
            assert os.path.isfile(os.path.join(run, name)), name
        net = create_model("resnet8", 10)
        not_loaded, _ = ms.load_param_into_net(net, ms.load_checkpoint(os.path.join(run, "best.ckpt")))
        assert not_loaded == []
    records = [json.loads(line) for line in open(os.path.join(out, "group_ats", "metrics.jsonl"))]
    assert records[0]["type"] == "teacher_eval"  # one teacher evaluation, recorded in every student's metrics
    log = open(os.path.join(out, "group_ats", "train.log")).read()
    assert "[group_ats] loss" in log and "[group_ts] loss" not in log  # each folder logs its own student
    assert "x 2 (same initial weights, same batches)" in log


def test_a_group_of_one_is_a_plain_run(tmp_path, teacher):
    out = str(tmp_path)
    plain = train(_cfg(out, "plain", teacher))
    (alone,) = train_group([_cfg(out, "group_of_one", teacher)])
    assert alone["best_top1"] == plain["best_top1"] and alone["last_top1"] == plain["last_top1"]
    np.testing.assert_array_equal(_steps(os.path.join(out, "plain")), _steps(os.path.join(out, "group_of_one")))
    assert "shared_teacher_group" not in alone


def test_a_diverging_student_stops_alone_and_disturbs_nothing(tmp_path, teacher):
    out = str(tmp_path)
    reference = train(_cfg(out, "reference", teacher, "ts", 4, 4))
    exploding = _cfg(out, "exploding", teacher, extra=["distill.kd_weight=1e30"])
    healthy = _cfg(out, "healthy", teacher, "ts", 4, 4)
    results = train_group([exploding, healthy])
    assert results[0] is None and results[1] is not None
    assert not os.path.exists(os.path.join(out, "exploding", "summary.json"))
    assert "diverged" in open(os.path.join(out, "exploding", "train.log")).read()
    np.testing.assert_allclose(_steps(os.path.join(out, "healthy")), _steps(os.path.join(out, "reference")),
                               rtol=1e-3, atol=1e-4)
    assert results[1]["last_top1"] == pytest.approx(reference["last_top1"], abs=0.6)


def test_cached_teacher_logits_in_a_group(tmp_path, teacher):
    out = str(tmp_path)
    no_aug = ["data.augment=false"]
    live = train_group([_cfg(out, f"live_{t}", teacher, tau_wrong=t, extra=no_aug) for t in (1, 2)])
    cached = train_group([_cfg(out, f"cached_{t}", teacher, tau_wrong=t, extra=no_aug + ["distill.cache_teacher_logits=true"])
                          for t in (1, 2)])
    for a, b in zip(live, cached):  # the first epoch's batches coincide (later ones are reshuffled differently)
        np.testing.assert_allclose(_steps(b["run_dir"])[:4], _steps(a["run_dir"])[:4], rtol=1e-4, atol=1e-5)
        assert b["steps"] == a["steps"] == 8
    assert "cached teacher logits" in open(os.path.join(out, "cached_1", "train.log")).read()


def test_cached_logits_serve_both_views_under_flip_only_augmentation(tmp_path, teacher):
    """With flips as the only augmentation the cache keeps the teacher's logits of each image and of its mirror
    image, and every batch carries the logits of the view it holds: equal to the teacher run on that batch."""
    from ats_ms.engine.run_log import RunLog
    from ats_ms.engine.run_state import Member
    from ats_ms.engine.runtime import setup_runtime
    from ats_ms.engine.teacher_cache import TeacherLogitCache
    from ats_ms.engine.trainer import GroupTrainer
    flip_only = ["data.crop_padding=0", "data.hflip=true", "distill.cache_teacher_logits=true"]
    cfg = _cfg(str(tmp_path), "flips", teacher, extra=flip_only)
    trainer = GroupTrainer([Member(0, cfg, str(tmp_path / "flips"))], setup_runtime(cfg.runtime), RunLog())
    trainer.build()  # nothing written
    assert trainer.cached and trainer.info.flips
    cache = TeacherLogitCache(trainer.train_data, trainer.teacher, flips=True)
    mirrored = {img[..., ::-1].tobytes() for img in cache.images}
    flipped = served = 0
    for images, _, logits in cache.dataset(64, seed=3).create_tuple_iterator(num_epochs=1):
        np.testing.assert_allclose(logits.asnumpy(), trainer.teacher(images).asnumpy(), rtol=1e-5, atol=1e-5)
        flipped += sum(img.tobytes() in mirrored for img in images.asnumpy())
        served += images.shape[0]
    assert served == 256 and 0.35 < flipped / served < 0.65, (flipped, served)
    summary = train(cfg)  # and a run trains from it
    assert summary["steps"] == 8
    assert "of each image and its mirror image" in open(os.path.join(summary["run_dir"], "train.log")).read()


def test_only_distill_keys_may_differ_within_a_group(tmp_path, teacher):
    with pytest.raises(ConfigError, match="may differ only in their 'distill' section"):
        train_group([_cfg(str(tmp_path), "a", teacher), _cfg(str(tmp_path), "b", teacher, extra=["optim.lr=0.1"])])


def test_shared_teacher_sweep_groups_splits_and_resumes(tmp_path, teacher):
    """The sweep command: points that differ only in 'distill' train as one group; a grid over another key
    is split and the log says why; an interrupted group resumes with the same command."""
    config = os.path.join(REPO, "configs", "quickstart", "digits_student_ats.yaml")
    common = ["--config", config, "--shared-teacher", f"experiment.output_dir={tmp_path}", "experiment.name=grid",
              "model.arch=resnet8", "teacher.arch=resnet14", f"teacher.checkpoint={teacher}", "schedule.epochs=2",
              "schedule.warmup_epochs=0", "schedule.milestones=[]", "data.train_samples=512", "data.batch_size=64"]
    env = dict(os.environ, GLOG_v="3")
    grid = ["--grid", "distill.tau_wrong=1,2", "--grid", "optim.lr=0.05,0.1"]
    proc = subprocess.Popen([sys.executable, "-m", "ats_ms.sweep"] + grid + common, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
    first_log = os.path.join(tmp_path, "grid", "tau_wrong=1__lr=0.05__seed=0", "train.log")
    deadline = time.time() + 240
    while not (os.path.exists(first_log) and "epoch 1/2 step 8/8" in open(first_log).read()):
        assert time.time() < deadline and proc.poll() is None, proc.stdout.read() if proc.poll() is not None else ""
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 143, out[-3000:]
    assert "shared teacher: 4 points in 2 group(s)" in out and "they differ in optim.lr" in out
    assert "Run the same sweep command again to continue." in out
    again = subprocess.run([sys.executable, "-m", "ats_ms.sweep"] + grid + common, capture_output=True, text=True,
                           cwd=REPO, env=env, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    for name in ("tau_wrong=1__lr=0.05__seed=0", "tau_wrong=2__lr=0.05__seed=0", "tau_wrong=1__lr=0.1__seed=0",
                 "tau_wrong=2__lr=0.1__seed=0"):
        run = os.path.join(tmp_path, "grid", name)
        summary = json.load(open(os.path.join(run, "summary.json")))
        assert summary["steps"] == 2 * 8 and len(summary["shared_teacher_group"]) == 2
        assert [r["epoch"] for r in _evals(run)] == [1, 2]
    from ats_ms.report import main as report_main
    assert report_main([os.path.join(tmp_path, "grid"), "--output", str(tmp_path / "r.md")]) == 0
    table = (tmp_path / "r.md").read_text()
    assert "| group |" in table and "trained together in one shared-teacher group" in table
