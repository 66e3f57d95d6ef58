"""ats_ms.process.cpu_isa: which instruction set oneDNN gets in which situation (never a timing), set inside each
process and never exported, so that a command, a launch and a run started from Python choose alike."""
import os
import subprocess
import sys

import pytest

from ats_ms.process import cpu_isa
from ats_ms.config import load_config
from train_helpers import REPO

BUILDABLE = lambda: None  # noqa: E731  the oneDNN convolution can be had
UNBUILDABLE = lambda: "no C++ compiler (c++, g++, clang++) on PATH"  # noqa: E731


def _cfg(*overrides):
    return load_config(None, list(overrides))


@pytest.mark.parametrize("overrides,user,probe,expected,why", [
    ([], None, BUILDABLE, None, "goes through ats_ms's oneDNN convolution"),
    (["runtime.cpu_conv=onednn"], None, BUILDABLE, None, "goes through ats_ms's oneDNN convolution"),
    ([], "AVX512_CORE", BUILDABLE, "AVX512_CORE", "exported by you"),
    ([], "AVX2", BUILDABLE, "AVX2", "exported by you"),
    (["runtime.cpu_conv=builtin"], None, BUILDABLE, "AVX2", "runtime.cpu_conv: builtin"),
    (["model.arch=mindcv:resnet18"], None, BUILDABLE, "AVX2", "mindcv:resnet18 runs MindSpore's convolution"),
    (["distill.method=ats", "teacher.arch=mindcv:resnet50", "teacher.checkpoint=t.ckpt"], None, BUILDABLE, "AVX2",
     "mindcv:resnet50"),
    (["runtime.amp_level=O2"], None, BUILDABLE, "AVX2", "AMP O2"),
    (["runtime.device_target=GPU"], None, BUILDABLE, "AVX2", "a GPU run"),
    ([], None, UNBUILDABLE, "AVX2", "cannot be had here (no C++ compiler"),
])
def test_the_cap_is_lifted_only_where_mindspores_convolution_never_runs(overrides, user, probe, expected, why):
    decision = cpu_isa.choose([_cfg(*overrides)], user=user, onednn_unavailable=probe)
    assert decision.value == expected and why in decision.reason


def test_one_config_that_needs_the_cap_keeps_it_for_the_whole_process():
    decision = cpu_isa.choose([_cfg(), _cfg("runtime.cpu_conv=builtin")], onednn_unavailable=BUILDABLE)
    assert decision.value == "AVX2"


def _isa_line(output):
    return next(line.split("cpu isa", 1)[1].strip() for line in output.splitlines() if " cpu isa " in line)


def test_a_command_a_launch_and_the_python_api_choose_alike(tmp_path):
    """The same config trained by the command, by the launcher (whose own import of ats_ms must not pass a choice
    to its child) and by ``train()`` from Python: the same decision, in force, in each setup block; the environment
    the training process runs in holds no ONEDNN_MAX_CPU_ISA the user did not export."""
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    env["GLOG_v"] = "3"
    common = ["--config", "quickstart/digits_teacher", f"experiment.output_dir={tmp_path}", "schedule.epochs=1",
              "model.arch=resnet8", "data.train_samples=128", "logging.eval_teacher=false"]
    api = ("import sys, os\nfrom ats_ms.config import load_config\nfrom ats_ms.engine.trainer import train\n"
           "print('exported:', os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset'))\n"
           "train(load_config(sys.argv[2], sys.argv[3:]))\n")
    lines = {}
    for name, argv in (("command", ["-m", "ats_ms.train"]), ("launch", ["-m", "ats_ms.launch", "--devices", "1"]),
                       ("api", ["-c", api])):
        args = common + [f"experiment.name={name}"]
        if name == "launch":  # the launcher's own flags first, then the overrides after '--'
            args = common[:2] + ["--"] + common[2:] + [f"experiment.name={name}"]
        proc = subprocess.run([sys.executable] + argv + args, capture_output=True, text=True, env=env, cwd=REPO,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        lines[name] = _isa_line(proc.stdout)
        assert "exported by you" not in lines[name]
        if name == "api":
            assert "exported: unset" in proc.stdout
    assert lines["command"] == lines["launch"] == lines["api"], lines
    expected = "no cap (the CPU best)" if cpu_isa._onednn_unavailable() is None else "AVX2"
    assert lines["command"].startswith(expected + ":") and "in force, not the" not in lines["command"]


def test_the_users_export_wins_and_an_unknown_value_is_refused(tmp_path):
    env = dict(os.environ, GLOG_v="3")
    args = [sys.executable, "-m", "ats_ms.train", "--config", "quickstart/digits_teacher",
            f"experiment.output_dir={tmp_path}", "schedule.epochs=1", "model.arch=resnet8", "data.train_samples=128"]
    proc = subprocess.run(args + ["experiment.name=avx"], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=dict(env, ONEDNN_MAX_CPU_ISA="avx"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _isa_line(proc.stdout).startswith("AVX: exported by you (ONEDNN_MAX_CPU_ISA=AVX); oneDNN runs AVX")
    proc = subprocess.run(args + ["experiment.name=bogus"], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=dict(env, ONEDNN_MAX_CPU_ISA="bogus"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    message = " ".join(proc.stderr.split())
    assert "ONEDNN_MAX_CPU_ISA=bogus is not an instruction set oneDNN knows" in message and "AVX2, AVX2_VNNI" in message
    assert not (tmp_path / "bogus").exists()


def test_an_eager_operation_before_train_is_fine_and_the_setup_block_tells_the_truth(tmp_path):
    """The README's loss snippet and a network run eagerly, then ``train()`` in the same process: the run trains on
    the device already in use, and its setup block says which instruction set oneDNN fixed at those operations."""
    code = ("import sys, numpy as np, mindspore as ms\nfrom ats_ms.losses import ATSLoss\n"
            "from ats_ms.models import create_model\n"
            "from ats_ms.config import load_config\nfrom ats_ms.engine.trainer import train\n"
            "z = ms.Tensor(np.zeros((2, 4), np.float32))\n"
            "print('loss', ATSLoss()(z, z, ms.Tensor(np.array([0, 1], np.int32))))\n"
            "print('logits', create_model('resnet8', 10)(ms.Tensor(np.zeros((1, 3, 32, 32), np.float32))).shape)\n"
            "train(load_config(sys.argv[1], sys.argv[2:]))\n")
    proc = subprocess.run([sys.executable, "-c", code, "quickstart/digits_teacher", f"experiment.output_dir={tmp_path}",
                           "experiment.name=r", "schedule.epochs=1", "model.arch=resnet8", "data.train_samples=128"],
                          capture_output=True, text=True, cwd=REPO, timeout=300, env=dict(os.environ, GLOG_v="3"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "done: best top1" in proc.stdout
    line = _isa_line(proc.stdout)
    if cpu_isa._onednn_unavailable() is None:  # the run would lift the cap, but the eager operation fixed AVX2
        assert line.startswith("AVX2 in force: oneDNN fixed it at an earlier operation in this process, before this "
                               "run chose no cap (the CPU best)"), line
