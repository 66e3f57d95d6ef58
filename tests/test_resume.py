"""A killed run resumes; Ctrl-C saves mid-epoch state; a diverged loss stops with the last good files kept."""
import json
import os
import signal
import time

import pytest

from ats_ms.engine.checkpoint import read_meta
from train_helpers import popen_train, run_cli, tiny_overrides

STEPS_PER_EPOCH = 1438 // 64


def _evals(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line)["epoch"] for line in f if '"type": "eval"' in line]


def _wait_for(predicate, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.stdout.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("timed out waiting for training progress")


def test_killed_run_resumes_with_same_steps_and_no_lost_epoch(tmp_path):
    args = tiny_overrides(str(tmp_path), "killed", epochs=4)
    run = os.path.join(tmp_path, "killed")
    proc = popen_train(args)
    _wait_for(lambda: os.path.exists(os.path.join(run, "metrics.jsonl")) and len(_evals(run)) >= 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    meta, _ = read_meta(os.path.join(run, "train_state.ckpt"))
    saved_epoch = int(meta["epoch"])
    assert 1 <= saved_epoch < 4 and int(meta["steps_done"]) == saved_epoch * STEPS_PER_EPOCH
    for name in ("best.ckpt", "last.ckpt", "train_state.ckpt"):  # a kill never leaves a torn checkpoint
        read_meta(os.path.join(run, name))

    proc = run_cli("ats_ms.train", args + ["--resume"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"resumed from {run}/train_state.ckpt: after epoch {saved_epoch} of 4" in proc.stdout
    summary = json.load(open(os.path.join(run, "summary.json")))
    assert summary["steps"] == 4 * STEPS_PER_EPOCH
    assert sorted(set(_evals(run))) == [1, 2, 3, 4] and _evals(run)[-1] == 4
    assert summary["best_top1"] > 30


def test_ctrl_c_saves_mid_epoch_state_and_resume_finishes(tmp_path):
    args = tiny_overrides(str(tmp_path), "interrupted", epochs=2, **{"logging.log_interval": 3})
    run = os.path.join(tmp_path, "interrupted")
    proc = popen_train(args)
    _wait_for(lambda: os.path.exists(os.path.join(run, "train.log"))
              and "step 3/" in open(os.path.join(run, "train.log")).read(), proc)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out  # interrupted is not finished: 128 + SIGINT
    assert f"Resume with:\n    python -m ats_ms.train --config {run}/config.yaml --resume" in out
    meta, _ = read_meta(os.path.join(run, "train_state.ckpt"))
    assert int(meta["epoch"]) == 0 and 3 <= int(meta["epoch_step"]) < STEPS_PER_EPOCH
    # the epoch it was in, numbered as the log numbers epochs (the first is 1)
    assert f"Stopped during epoch 1 of 2 (step {int(meta['epoch_step'])} of its {STEPS_PER_EPOCH};" in out, out
    assert "Traceback" not in out
    assert not os.path.exists(os.path.join(run, "summary.json"))

    proc = run_cli("ats_ms.train", args + ["--resume"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the resumed log names the same position in the same words as the stop message
    position = out.split("Stopped ", 1)[1].split("; the training state")[0]
    assert f"resumed from {run}/train_state.ckpt: {position}" in proc.stdout, proc.stdout
    summary = json.load(open(os.path.join(run, "summary.json")))
    assert summary["steps"] == 2 * STEPS_PER_EPOCH and _evals(run) == [1, 2]


def test_the_position_is_told_in_the_logs_epoch_numbers():
    from ats_ms.engine.run_state import GroupState
    g = GroupState(steps_per_epoch=100, total_epochs=10, batch_size=64, global_step=125)
    assert g.position() == "during epoch 2 of 10 (step 25 of its 100; 125 of 1,000 in all)"
    g.global_step = 100
    assert g.position() == "after epoch 1 of 10 (step 100 of 1,000)"


def test_diverging_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    # a step schedule whose second epoch multiplies the learning rate by 1e30: epoch 1 trains well
    args = tiny_overrides(str(tmp_path), "diverge", epochs=1, **{"schedule.milestones": "[1]", "schedule.gamma": 1e30})
    run = os.path.join(tmp_path, "diverge")
    assert run_cli("ats_ms.train", args).returncode == 0
    good = {n: open(os.path.join(run, n), "rb").read() for n in ("last.ckpt", "train_state.ckpt", "best.ckpt")}
    # lengthening a finished step-schedule run is allowed; its second epoch diverges
    proc = run_cli("ats_ms.train", args + ["--resume", "schedule.epochs=3"])
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "Training diverged" in message and "last good checkpoints" in message and "Traceback" not in message
    for name, data in good.items():
        assert open(os.path.join(run, name), "rb").read() == data, name
