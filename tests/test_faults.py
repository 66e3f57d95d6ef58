"""Faults a real run meets: kills at random moments, two writers, finished runs resumed, forks, a full
disk, crashes between files, signals.  Nothing a user wrote may be lost and every result must stay
consistent with the saved training state."""
import json
import os
import random
import resource
import shlex
import signal
import subprocess
import sys
import time

import pytest

from ats_ms.config import load_config
from ats_ms.engine.checkpoint import read_meta
from ats_ms.engine.trainer import train
from ats_ms.common.errors import RunFolderError
from conftest import REPO
from train_helpers import popen_train, run_cli, tiny_overrides

STEPS = 1438 // 64  # digits training split, batch 64


def _records(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _epochs(run):
    return [r["epoch"] for r in _records(run) if r["type"] in ("eval", "train")]


def _files(run):
    out = {}
    for name in sorted(os.listdir(run)):
        path = os.path.join(run, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[name] = f.read()
    return out


def _wait(predicate, proc, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"process ended early ({proc.returncode}): {proc.stdout.read()[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("timed out")


def _progress(run):
    log = os.path.join(run, "train.log")
    return os.path.exists(log) and " step " in open(log).read()


def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_run(tmp_path):
    args = tiny_overrides(str(tmp_path), "killed", epochs=3, **{"logging.log_interval": 4})
    run = os.path.join(tmp_path, "killed")
    rng = random.Random(12)
    for _ in range(3):
        proc = popen_train(args + ["--resume"])
        _wait(lambda: _progress(run), proc)
        time.sleep(rng.uniform(0.0, 4.0))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = run_cli("ats_ms.train", args + ["--resume"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.load(open(os.path.join(run, "summary.json")))
    assert summary["steps"] == 3 * STEPS and summary["last_top1"] is not None
    assert _epochs(run) == [1, 2, 3], "every epoch's record exactly once"
    steps = {name: int(read_meta(os.path.join(run, name))[0]["step"]) for name in ("best.ckpt", "last.ckpt")}
    assert steps["last.ckpt"] == 3 * STEPS and steps["best.ckpt"] in (STEPS, 2 * STEPS, 3 * STEPS), steps
    assert int(read_meta(os.path.join(run, "train_state.ckpt"))[0]["steps_done"]) == 3 * STEPS
    assert not [n for n in os.listdir(run) if n.startswith(".tmp-")]


def test_a_second_process_is_refused_while_the_first_holds_the_folder(tmp_path):
    args = tiny_overrides(str(tmp_path), "shared", epochs=30)
    run = os.path.join(tmp_path, "shared")
    first = popen_train(args)
    try:
        _wait(lambda: _progress(run), first)
        second = run_cli("ats_ms.train", args + ["--resume"])
        assert second.returncode == 2
        message = " ".join(second.stderr.split())
        assert f"is in use by process {first.pid}" in message and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=120)
    assert first.returncode == 143, out[-2000:]  # interrupted by SIGTERM: saved, then 128 + 15
    saved = json.loads(read_meta(os.path.join(run, "train_state.ckpt"))[0]["config_json"])
    assert saved["experiment"]["seed"] == 0 and "Resume with:\n    python -m ats_ms.train --config" in out


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("finished"))
    args = tiny_overrides(out, "run", epochs=2)
    summary = train(load_config(None, args))
    return out, args, os.path.join(out, "run"), summary


def test_resuming_a_finished_run_reports_it_and_changes_nothing(finished):
    out, args, run, summary = finished
    before = _files(run)
    proc = run_cli("ats_ms.train", args + ["--resume"])
    assert proc.returncode == 0, proc.stderr
    assert "is already complete: best top1" in proc.stdout and f"{summary['last_top1']:.2f}" in proc.stdout
    assert _files(run) == before


def test_a_state_forks_only_into_a_new_folder(finished, tmp_path):
    out, args, run, _ = finished
    state = os.path.join(run, "train_state.ckpt")
    fork_args = tiny_overrides(str(tmp_path), "fork", epochs=3) + [f"checkpoint.resume={state}"]
    proc = run_cli("ats_ms.train", fork_args + ["--resume"])  # an explicit state wins over --resume's "auto"
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"resumed from {state}: after epoch 2 of 3" in proc.stdout
    fork = os.path.join(tmp_path, "fork")
    env = json.load(open(os.path.join(fork, "env.json")))
    assert env["forked_from"] == os.path.abspath(state)
    assert _epochs(fork) == [1, 2, 3]  # the origin's two epochs, then its own third
    assert json.load(open(os.path.join(fork, "summary.json")))["steps"] == 3 * STEPS
    # the origin is untouched by its fork, and a non-empty folder is never a fork target
    again = run_cli("ats_ms.train", fork_args)
    assert again.returncode == 2 and "resumed only into its own run folder" in " ".join(again.stderr.split())


def test_a_finished_state_without_summary_is_finished_not_broken(finished, tmp_path):
    """What a SIGTERM right after the last epoch leaves: the final state, no summary.json."""
    _, _, run, summary = finished
    copy = tmp_path / "copy"
    copy.mkdir()
    for name, data in _files(run).items():
        if name != "summary.json":
            (copy / name).write_bytes(data)
    args = tiny_overrides(str(tmp_path), "copy", epochs=2)
    result = train(load_config(None, args + ["checkpoint.resume=auto"]))
    assert result["best_top1"] == summary["best_top1"] and result["last_top1"] == summary["last_top1"]
    assert result["steps"] == 2 * STEPS and _epochs(str(copy)) == [1, 2]


def test_metrics_and_checkpoints_are_repaired_from_the_state(finished, tmp_path):
    """A crash between saving the state and writing the files derived from it (or after writing a metrics
    line whose state was never saved): the resumed run shows every evaluation exactly once."""
    _, _, run, _ = finished
    copy = tmp_path / "copy"
    copy.mkdir()
    for name, data in _files(run).items():
        if name not in ("summary.json", "best.ckpt"):
            (copy / name).write_bytes(data)
    lines = (copy / "metrics.jsonl").read_text().splitlines()
    ghost = dict(json.loads(lines[-1]), epoch=3, step=3 * STEPS, top1=1.0)
    (copy / "metrics.jsonl").write_text(lines[0] + "\n" + json.dumps(ghost) + "\n")  # epoch 2 lost, a ghost epoch 3
    args = tiny_overrides(str(tmp_path), "copy", epochs=3)
    train(load_config(None, args + ["checkpoint.resume=auto"]))
    records = [r for r in _records(str(copy)) if r["type"] == "eval"]
    assert [r["epoch"] for r in records] == [1, 2, 3] and records[2]["top1"] != 1.0
    assert json.loads(lines[1])["top1"] == records[1]["top1"]  # epoch 2's record restored from the state
    meta, _ = read_meta(str(copy / "best.ckpt"))
    assert int(meta["step"]) in (STEPS, 2 * STEPS, 3 * STEPS)


def test_a_changed_config_on_resume_is_refused_or_logged_end_to_end(finished, tmp_path):
    """One real state each way (the rule matrix itself is in test_resume_check.py): a changed batch size is
    refused before anything is written; a changed log interval is logged and the run goes on."""
    _, args, run, _ = finished
    before = _files(run)
    with pytest.raises(RunFolderError, match="data.batch_size: 64 -> 32"):
        train(load_config(None, args + ["checkpoint.resume=auto", "data.batch_size=32", "schedule.epochs=3"]))
    assert _files(run) == before
    state = os.path.join(run, "train_state.ckpt")
    fork = tiny_overrides(str(tmp_path), "fork", epochs=3, **{"logging.log_interval": 3})
    train(load_config(None, fork + [f"checkpoint.resume={state}"]))
    log = open(os.path.join(tmp_path, "fork", "train.log")).read()
    assert "config changes since the state was saved (harmless): logging.log_interval: 10 -> 3" in log


def test_a_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path):
    args = tiny_overrides(str(tmp_path), "full", epochs=1)

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))  # the training state is ~640 kB

    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.run([sys.executable, "-m", "ats_ms.train"] + args, capture_output=True, text=True, cwd=REPO,
                          env=env, preexec_fn=small_files_only)
    run = os.path.join(tmp_path, "full")
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"Could not write '{run}/train_state.ckpt' (File too large)" in message and "Nothing was half-written" in message
    assert not [n for n in os.listdir(run) if n.startswith(".tmp-")]
    again = run_cli("ats_ms.train", args + ["--resume"])
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.load(open(os.path.join(run, "summary.json")))["steps"] == STEPS


def test_sigterm_exits_143_and_the_printed_command_resumes(tmp_path):
    args = tiny_overrides(str(tmp_path), "term", epochs=2, **{"logging.log_interval": 3})
    run = os.path.join(tmp_path, "term")
    proc = popen_train(args)
    _wait(lambda: _progress(run), proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, out[-2000:]
    argv = shlex.split(out.split("Resume with:\n")[1].splitlines()[0])
    assert argv[:3] == ["python", "-m", "ats_ms.train"]
    resumed = run_cli("ats_ms.train", argv[3:])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.load(open(os.path.join(run, "summary.json")))["steps"] == 2 * STEPS and _epochs(run) == [1, 2]


def test_a_run_started_with_relative_paths_resumes_and_evaluates_from_any_folder(tmp_path):
    """A student whose teacher, data and run folder were given relative to the folder it started in: killed, the
    command it printed continues it from another folder, and eval reads its saved config from there too."""
    home, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = dict(os.environ, GLOG_v="3")
    teacher = subprocess.run([sys.executable, "-m", "ats_ms.train"] + tiny_overrides("runs", "t", epochs=1),
                             capture_output=True, text=True, cwd=home, env=env)
    assert teacher.returncode == 0, teacher.stderr[-2000:]
    args = tiny_overrides("runs", "s", epochs=2, **{"logging.log_interval": 3, "distill.method": "ats",
                                                    "teacher.arch": "resnet8", "teacher.checkpoint": "runs/t/best.ckpt"})
    proc = subprocess.Popen([sys.executable, "-m", "ats_ms.train"] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=home, env=env)
    run = home / "runs" / "s"
    _wait(lambda: _progress(str(run)), proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, out[-2000:]
    argv = shlex.split(out.split("Resume with:\n")[1].splitlines()[0])
    assert argv[4] == str(run / "config.yaml")  # the printed command names the config by its absolute path
    resumed = subprocess.run([sys.executable] + argv[1:], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert json.load(open(run / "summary.json"))["steps"] == 2 * STEPS and not (elsewhere / "runs").exists()
    evaluated = subprocess.run([sys.executable, "-m", "ats_ms.eval", "--config", str(run / "config.yaml"),
                                "--checkpoint", str(run / "best.ckpt")], capture_output=True, text=True, cwd=elsewhere,
                               env=env)
    assert evaluated.returncode == 0 and "top1" in evaluated.stdout, evaluated.stderr[-2000:]
    import yaml
    saved = yaml.safe_load(open(run / "config.yaml"))
    assert saved["teacher"]["checkpoint"] == str(home / "runs" / "t" / "best.ckpt")
    assert saved["experiment"]["output_dir"] == str(home / "runs")


def test_sweep_points_are_finished_only_for_their_own_config(tmp_path):
    from ats_ms.experiments.grid import parse_grid
    from ats_ms.experiments.sweep import run_sweep
    extra = [o for o in tiny_overrides(str(tmp_path), "grid", epochs=1) if not o.startswith("optim.lr=")]
    extra += ["data.train_samples=128"]  # optim.lr is the grid's: an override of it beside the axis is refused
    config = os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml")
    grid = parse_grid(["optim.lr=0.05,0.1"])
    _, first = run_sweep(config, grid, [0], extra)
    assert len(first["done"]) == 2
    _, again = run_sweep(config, grid, [0], extra + ["schedule.epochs=2"])
    assert again["done"] == first["done"] and not again["skipped"]  # lengthened, not reported as finished
    for name in again["done"]:
        assert json.load(open(os.path.join(tmp_path, "grid", name, "summary.json")))["epochs"] == 2


def test_two_sweeps_over_one_grid_share_the_points_and_both_succeed(tmp_path):
    """The second sweep starts while the first trains its first point: each point is trained exactly once, a
    point the other process holds is left to it (not failed), and both exit 0 once every point is finished."""
    env = dict(os.environ, GLOG_v="3")
    config = os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml")
    args = [sys.executable, "-m", "ats_ms.sweep", "--config", config, "--seeds", "0,1,2", f"experiment.output_dir={tmp_path}",
            "schedule.epochs=2", "data.train_samples=256", "data.batch_size=64", "logging.log_interval=1"]
    root = os.path.join(tmp_path, "student_resnet8_ce")
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
    _wait(lambda: _progress(os.path.join(root, "seed=0")), first)
    second = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
    outs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
    assert f"seed=0: being trained by process {first.pid}" in outs[1]
    for seed in (0, 1, 2):
        log = open(os.path.join(root, f"seed={seed}", "train.log")).read()
        assert log.count("setup:") == 1, f"seed {seed} was trained {log.count('setup:')} times"
        assert json.load(open(os.path.join(root, f"seed={seed}", "summary.json")))["steps"] == 2 * (256 // 64)
    for out in outs:
        assert "failed: " not in out and "0 failed; every point is finished" in out
    assert "finished by another process" in outs[0] + outs[1]
