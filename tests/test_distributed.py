"""Data-parallel training through run_train.sh (``python -m ats_ms.launch``), and the launch commands it builds."""
import json
import os
import re
import subprocess
import sys

import pytest

import mindspore as ms

from ats_ms.engine.checkpoint import read_meta, weights_checksum
from ats_ms.models import create_model
from conftest import REPO

SCRIPT = os.path.join(REPO, "run_train.sh")
CONFIG = os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml")
SAMPLES = ["data.train_samples=512", "data.batch_size=64"]  # 4 steps of 2 x 64 per epoch


def _launch(*args, timeout=300):
    env = dict(os.environ, GLOG_v="3")
    return subprocess.run(["bash", SCRIPT] + list(args), capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=timeout)


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory):
    """One single-device launch (the launcher's plain path) trains the teacher both tests distil from."""
    out = str(tmp_path_factory.mktemp("dp_teacher"))
    teacher = _launch("--config", os.path.join(REPO, "configs/quickstart/digits_teacher.yaml"), "--device", "CPU",
                      "--", f"experiment.output_dir={out}", "model.arch=resnet8", "schedule.epochs=1", *SAMPLES)
    assert teacher.returncode == 0, teacher.stdout[-2000:] + teacher.stderr[-2000:]
    return os.path.join(out, "teacher_resnet14", "best.ckpt")


def test_two_process_data_parallel_distillation_on_cpu(tmp_path, teacher_ckpt):
    out = str(tmp_path)
    proc = _launch("--config", os.path.join(REPO, "configs/quickstart/digits_student_ats.yaml"), "--device", "CPU",
                   "--devices", "2", "--master-port", "8129", "--", f"experiment.output_dir={out}",
                   "schedule.epochs=2", "teacher.arch=resnet8", f"teacher.checkpoint={teacher_ckpt}",
                   "optim.lr_scaling=linear", "optim.base_batch_size=64", *SAMPLES)
    run = os.path.join(out, "student_resnet8_ats")
    logs = {r: open(os.path.join(run, "logs", f"worker_{r}.log")).read() for r in (0, 1)}
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sums = {}
    for rank, text in logs.items():
        assert "done: best top1" in text, text[-2000:]
        assert f"2 device(s) (this is rank {rank})" in text
        assert "lr 0.1 (global batch 128)" in text  # linear scaling: 0.05 * (64 x 2) / 64
        # each worker chose its instruction set itself (the launcher's own import passed no choice on)
        assert "exported by you" not in text and "in force: oneDNN fixed it" not in text
        sums[rank] = re.search(r"student parameter checksum (\w+)", text).group(1)
    assert sums[0] == sums[1], "ranks hold different student parameters"
    # MindSpore's workers log a few INFO lines while shutting down, whatever GLOG_v says; the launcher drops them
    assert "[INFO]" not in proc.stdout + proc.stderr and "[INFO]" in logs[0] + logs[1]
    student = create_model("resnet8", 10)
    ms.load_param_into_net(student, ms.load_checkpoint(os.path.join(run, "last.ckpt")))
    assert weights_checksum(student) == sums[0]
    for name in ("best.ckpt", "last.ckpt", "train_state.ckpt"):
        assert int(read_meta(os.path.join(run, name))[0]["written_by_rank"]) == 0
    summary = json.load(open(os.path.join(run, "summary.json")))
    steps_per_epoch = 512 // (64 * 2)
    assert summary["devices"] == 2 and summary["steps"] == 2 * steps_per_epoch
    assert sorted(f for f in os.listdir(run) if f.endswith(".ckpt")) == ["best.ckpt", "last.ckpt", "train_state.ckpt"]

    # resume on both ranks from rank 0's state and train one more epoch: the ranks stay identical
    proc = _launch("--config", os.path.join(REPO, "configs/quickstart/digits_student_ats.yaml"), "--device", "CPU",
                   "--devices", "2", "--master-port", "8131", "--", f"experiment.output_dir={out}",
                   "schedule.epochs=3", "teacher.arch=resnet8", f"teacher.checkpoint={teacher_ckpt}",
                   "optim.lr_scaling=linear", "optim.base_batch_size=64", "checkpoint.resume=auto", *SAMPLES)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    logs = {r: open(os.path.join(run, "logs", f"worker_{r}.log")).read() for r in (0, 1)}
    for text in logs.values():
        assert (f"resumed from {run}/train_state.ckpt: after epoch 2 of 3 (step {2 * steps_per_epoch} of "
                f"{3 * steps_per_epoch})") in text, text[-2000:]
    resumed = [re.findall(r"student parameter checksum (\w+)", logs[r])[-1] for r in (0, 1)]
    assert resumed[0] == resumed[1] != sums[0]
    assert json.load(open(os.path.join(run, "summary.json")))["steps"] == 3 * steps_per_epoch


def test_shared_teacher_group_under_data_parallel(tmp_path, teacher_ckpt):
    """A two-student group trained data-parallel on two processes: each rank runs the same group, the ranks
    end with identical students, and rank 0 wrote each student's folder."""
    out = str(tmp_path)
    proc = _launch("--config", os.path.join(REPO, "configs/quickstart/digits_student_ats.yaml"), "--device", "CPU",
                   "--devices", "2", "--master-port", "8135", "--sweep",
                   "--grid distill.tau_wrong=1,2 --shared-teacher --group-size 2", "--", f"experiment.output_dir={out}",
                   "schedule.epochs=1", "teacher.arch=resnet8",
                   f"teacher.checkpoint={teacher_ckpt}", *SAMPLES)
    root = os.path.join(out, "student_resnet8_ats")
    logs = {r: open(os.path.join(root, "logs", f"worker_{r}.log")).read() for r in (0, 1)}
    assert proc.returncode == 0, logs[0][-3000:] + logs[1][-3000:]
    for rank in (0, 1):
        assert "shared teacher: 2 points in 1 group(s)" in logs[rank]
    points = ("tau_wrong=1__seed=0", "tau_wrong=2__seed=0")
    for point in points:
        summary = json.load(open(os.path.join(root, point, "summary.json")))
        assert summary["devices"] == 2 and summary["steps"] == 512 // 128
        assert sorted(summary["shared_teacher_group"]) == [os.path.join(root, p) for p in points]
        sums = [re.findall(r"student parameter checksum (\w+)", logs[r]) for r in (0, 1)]
        assert sums[0] == sums[1] and summary["student_checksum"] in sums[0]
    assert json.load(open(os.path.join(root, points[0], "summary.json")))["student_checksum"] != \
        json.load(open(os.path.join(root, points[1], "summary.json")))["student_checksum"]


def test_the_launcher_passes_on_only_the_log_lines_glog_v_asks_for():
    from ats_ms.launch.__main__ import _quiet
    info = "[INFO] DISTRIBUTED(12981,7f59,python):2026-12-07 [tcp_client.cc:367] Start] Event base dispatch success!"
    assert _quiet(info, 3) and _quiet(info, 2) and not _quiet(info, 1)
    assert not _quiet("[ERROR] DISTRIBUTED(1,2,python): failed", 3)
    assert not _quiet("20:58:08 done: best top1 10.58 (epoch 1)", 3)


def test_dry_run_commands(tmp_path):
    table = tmp_path / "rank_table_8pcs.json"
    table.write_text("{}")
    out = f"experiment.output_dir={tmp_path}"
    proc = _launch("--config", CONFIG, "--device", "Ascend", "--devices", "8", "--launcher", "ranktable",
                   "--rank-table", str(table), "--dry-run", "--", out)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == 8
    assert lines[3].startswith(f"DEVICE_ID=3 RANK_ID=3 RANK_SIZE=8 RANK_TABLE_FILE={table} {sys.executable} -m "
                               "ats_ms.train")
    assert "runtime.distributed=true" in lines[3] and lines[3].endswith("logs/rank_3.log 2>&1 &")

    proc = _launch("--config", CONFIG, "--device", "GPU", "--devices", "8", "--launcher", "mpirun", "--dry-run",
                   "--", out)
    assert proc.returncode == 0
    assert proc.stdout.startswith("mpirun -n 8 --allow-run-as-root --output-filename")
    assert f"{sys.executable} -m ats_ms.train --config" in proc.stdout and "runtime.device_target=GPU" in proc.stdout

    proc = _launch("--config", CONFIG, "--device", "Ascend", "--devices", "8", "--nodes", "2", "--node-rank", "1",
                   "--master-addr", "192.0.2.10", "--master-port", "9000", "--dry-run", "--", out)
    assert proc.returncode == 0
    for part in ("msrun --worker_num=16 --local_worker_num=8 --master_addr=192.0.2.10 --master_port=9000",
                 "--node_rank=1", "ats_ms/launch/train_worker.py --config", "runtime.distributed=true"):
        assert part in proc.stdout, part

    proc = _launch("--config", CONFIG, "--dry-run", "--background", "--", out)
    assert proc.returncode == 0 and proc.stdout.startswith(f"nohup {sys.executable} -m ats_ms.train")


@pytest.mark.parametrize("args,message", [
    ([], "--config FILE is required"),
    (["--config", "missing.yaml"], "does not exist"),
    (["--config", CONFIG, "--devices", "two"], "--devices must be a whole number"),
    (["--config", CONFIG, "--device", "TPU"], "--device must be CPU, GPU or Ascend"),
    (["--config", CONFIG, "--nodes", "2", "--node-rank", "2"], "--node-rank must be below --nodes"),
    (["--config", CONFIG, "--devices", "2", "--launcher", "ranktable"], "needs --rank-table"),
    (["--config", CONFIG, "--launcher", "slurm"], "--launcher must be msrun, mpirun or ranktable"),
    (["--config", CONFIG, "optim.lr=0.1"], "overrides go after '--'"),
    (["--config", CONFIG, "--", "optim.lrr=0.1"], "Did you mean 'lr'"),
    (["--config", CONFIG, "--devices", "2", "--master-port", "70000"], "--master-port must be a TCP port, 1 to 65535"),
    (["--config", CONFIG, "--sweep", "--grid 'optim.lr=0.1"], "cannot be split into arguments (No closing quotation)"),
])
def test_flag_errors(args, message):
    proc = _launch("--dry-run", *args)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr


def test_a_background_launch_checks_what_training_would_refuse_before_it_detaches(tmp_path, teacher_ckpt):
    """Training would refuse a finished run's folder: refused here, before detaching; with --resume it is reported
    complete and nothing starts; neither leaves a log folder inside the run. An unwritable log folder is named."""
    run = os.path.dirname(teacher_ckpt)
    before = sorted(os.listdir(run))
    proc = _launch("--config", os.path.join(run, "config.yaml"), "--background")
    assert proc.returncode == 2 and "already holds a finished run" in " ".join(proc.stderr.split()), proc.stdout
    proc = _launch("--config", os.path.join(run, "config.yaml"), "--background", "--", "checkpoint.resume=auto")
    assert proc.returncode == 0 and "is already complete; nothing was started" in proc.stdout, proc.stderr
    assert "started in the background" not in proc.stdout and sorted(os.listdir(run)) == before
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    proc = _launch("--config", CONFIG, "--background", "--log-dir", str(blocker / "logs"), "--",
                   f"experiment.output_dir={tmp_path}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Cannot create the log folder" in " ".join(proc.stderr.split()) and "nothing was started" in proc.stderr


def test_help_lists_every_flag():
    proc = _launch("--help")
    assert proc.returncode == 0
    for flag in ("--config", "--device", "--devices", "--nodes", "--node-rank", "--master-addr", "--master-port",
                 "--launcher", "--rank-table", "--background", "--dry-run"):
        assert flag in proc.stdout, flag


@pytest.fixture
def second_host():
    """A second "host" on this machine: a network namespace joined to this one by a veth pair, so that msrun on
    it sees the master address as remote (msrun starts its scheduler on every node whose own addresses include
    the master address, which on one plain host is every node).  Needs root and iproute2; skipped otherwise."""
    tag = f"ats{os.getpid() % 10000}"
    ns, here, there = f"{tag}n", f"{tag}a", f"{tag}b"
    octet = 100 + os.getpid() % 100
    commands = [["ip", "netns", "add", ns], ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
                ["ip", "link", "set", there, "netns", ns], ["ip", "addr", "add", f"10.{octet}.0.1/24", "dev", here],
                ["ip", "link", "set", here, "up"],
                ["ip", "netns", "exec", ns, "ip", "addr", "add", f"10.{octet}.0.2/24", "dev", there],
                ["ip", "netns", "exec", ns, "ip", "link", "set", there, "up"],
                ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]]
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        pytest.skip(f"cannot make a second network namespace here ({exc}); needs root and iproute2")
    try:
        yield ns, f"10.{octet}.0.1"
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def test_two_nodes_distil_on_an_imagenet_layout(tmp_path, second_host):
    """Two msrun "nodes" (one device each) through run_train.sh, node 1 in its own network namespace: both ranks
    end with the same student, only node 0 starts a scheduler, and rank 0 alone wrote the run folder."""
    from ats_ms.engine.checkpoint import save_weights
    from layout_fixtures import imagenet_tree
    ns, master = second_host
    imagenet_tree(str(tmp_path / "imagenet"), train=6, val=2)
    save_weights(create_model("resnet8", 3), str(tmp_path / "teacher.ckpt"), {"arch": "resnet8", "num_classes": 3})
    out = tmp_path / "runs"
    common = ["--config", os.path.join(REPO, "configs/imagenet/kd_benchmark/resnet34_to_resnet18/ats.yaml"),
              "--device", "CPU", "--devices", "1", "--nodes", "2", "--master-addr", master, "--master-port", "8243"]
    overrides = ["--", "model.arch=resnet8", "teacher.arch=resnet8", f"teacher.checkpoint={tmp_path / 'teacher.ckpt'}",
                 f"data.root={tmp_path / 'imagenet'}", "data.image_size=16", "data.batch_size=2",
                 "data.eval_batch_size=6", "schedule.epochs=2", f"experiment.output_dir={out}"]
    env = dict(os.environ, GLOG_v="3")
    node0 = subprocess.Popen(["bash", SCRIPT, *common, "--node-rank", "0", *overrides], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
    node1 = subprocess.run(["ip", "netns", "exec", ns, "bash", SCRIPT, *common, "--node-rank", "1", *overrides],
                           capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    out0, _ = node0.communicate(timeout=600)
    run = out / "resnet34_to_resnet18_ats"
    logs = {r: (run / "logs" / f"worker_{r}.log").read_text() for r in (0, 1)}
    assert node0.returncode == 0 and node1.returncode == 0, out0[-2000:] + node1.stdout[-2000:] + logs[1][-2000:]
    assert "Start scheduler" in out0 and "Start scheduler" not in node1.stdout + node1.stderr
    sums = [re.search(r"rank \d: student parameter checksum (\w+)", logs[r]).group(1) for r in (0, 1)]
    assert sums[0] == sums[1] and "this is rank 1" in logs[1]
    summary = json.load(open(run / "summary.json"))
    assert summary["devices"] == 2 and summary["steps"] == 2 * (18 // (2 * 2)) and summary["student_checksum"] == sums[0]
    for name in ("best.ckpt", "last.ckpt", "train_state.ckpt"):
        assert int(read_meta(str(run / name))[0]["written_by_rank"]) == 0
