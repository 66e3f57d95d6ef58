"""``python -m ats_ms.export``: every format is written under a private name, checked, then renamed; a failure
leaves nothing and changes no folder; ``--format torch`` writes a state dict the PyTorch reference network loads
strictly, and ``convert`` reads it back to the same weights."""
import os
import resource
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

import mindspore as ms

from ats_ms.engine import checkpoint as ckpt
from ats_ms.models import create_model
from train_helpers import REPO

CONFIG = "data: {name: cifar10}\nmodel: {arch: %s}\n"


def _checkpoint(folder, arch, seed=0, **meta):
    """A checkpoint of random weights with non-trivial BatchNorm statistics, and a config naming its network."""
    ms.set_seed(seed)
    net = create_model(arch, 10)
    rng = np.random.RandomState(seed)
    for name, param in ckpt.named_parameters(net):
        if name.endswith(("moving_mean", "beta")):
            param.set_data(ms.Tensor(rng.randn(*param.shape).astype(np.float32) * 0.1))
        elif name.endswith(("moving_variance", "gamma")):
            param.set_data(ms.Tensor(rng.rand(*param.shape).astype(np.float32) + 0.5))
    path = os.path.join(folder, f"{arch}.ckpt")
    ckpt.save_weights(net, path, {"arch": arch, "num_classes": 10, **meta})
    config = os.path.join(folder, f"{arch}.yaml")
    with open(config, "w") as f:
        f.write(CONFIG % arch)
    return net, path, config


def _export(args, cwd=REPO, limit=None):
    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ, GLOG_v="3")
    return subprocess.run([sys.executable, "-m", "ats_ms.export"] + args, capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600, preexec_fn=small_files_only if limit else None)


def test_a_full_disk_leaves_no_partial_model(tmp_path):
    _, path, config = _checkpoint(str(tmp_path), "resnet8")
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("MINDIR", "ONNX"):
        proc = _export(["--config", config, "--checkpoint", path, "--format", fmt, "--output",
                        str(out / "model")], limit=20_000)  # the model needs ~300 kB
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "Could not write" in message and "Nothing was half-written" in message and "--resume" not in message
        assert os.listdir(out) == [], fmt  # no truncated model, no private folder


def test_a_full_disk_under_a_pytorch_export_is_said_like_the_other_formats(tmp_path):
    pytest.importorskip("torch", reason="export --format torch needs torch (CI's torch job installs it)")
    _, path, config = _checkpoint(str(tmp_path), "resnet8")
    out = tmp_path / "out"
    out.mkdir()
    proc = _export(["--config", config, "--checkpoint", path, "--format", "TORCH", "--output", str(out / "model")],
                   limit=20_000)
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "enforce fail" not in message, proc.stderr
    assert "Could not write" in message and "Nothing was half-written" in message
    assert os.listdir(out) == []


def test_onnx_export_changes_no_folder_of_the_user(tmp_path):
    _, path, config = _checkpoint(str(tmp_path), "resnet8")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2775)
    proc = _export(["--config", config, "--checkpoint", path, "--format", "ONNX", "--output", str(shared / "m.onnx")])
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o2775 and os.listdir(shared) == ["m.onnx"]
    here = tmp_path / "here"
    here.mkdir()
    os.chmod(here, 0o755)
    proc = _export(["--config", config, "--checkpoint", path, "--format", "ONNX", "--output", "bare.onnx"],
                   cwd=str(here))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(here).st_mode) == 0o755 and os.listdir(here) == ["bare.onnx"]


def test_an_onnx_file_is_run_by_onnxruntime_or_said_to_be_unchecked(tmp_path):
    """With onnxruntime (the onnx extra; the test extra brings it) the written file is run and its logits compared,
    and the logits are those of a network built here from the checkpoint; without it the command says 'not checked'
    rather than claiming a check."""
    net, path, config = _checkpoint(str(tmp_path), "resnet8")
    proc = _export(["--config", config, "--checkpoint", path, "--format", "ONNX", "--output", str(tmp_path / "m")])
    assert proc.returncode == 0, proc.stderr
    try:
        import onnxruntime
    except ImportError:
        assert "not checked: onnxruntime is not installed" in proc.stdout
        return
    assert "run by onnxruntime, max |logit difference|" in proc.stdout
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.RandomState(5).randn(session.get_inputs()[0].shape[0], 3, 32, 32).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    net.set_train(False)
    np.testing.assert_allclose(got, net(ms.Tensor(x)).asnumpy(), rtol=1e-4, atol=1e-4)
    hidden = subprocess.run([sys.executable, "-c", "import sys; sys.modules['onnxruntime'] = None; "
                             "from ats_ms.export import main; from ats_ms.cli import run_cli; "
                             "sys.exit(run_cli(main, sys.argv[1:]))", "--config", config, "--checkpoint", path,
                             "--format", "ONNX", "--output", str(tmp_path / "n")], capture_output=True, text=True,
                            env=dict(os.environ, GLOG_v="3"), cwd=REPO)
    assert hidden.returncode == 0, hidden.stderr
    assert "not checked: onnxruntime is not installed" in hidden.stdout and "reloaded" not in hidden.stdout


@pytest.mark.torch
@pytest.mark.parametrize("arch", ["resnet8", "wrn_16_1", "vgg8"])
def test_torch_state_dict_loads_strictly_and_converts_back(tmp_path, arch):
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    from ats_ms.interop.torch_reference import build_torch_model
    net, path, config = _checkpoint(str(tmp_path), arch)
    proc = _export(["--config", config, "--checkpoint", path, "--format", "torch", "--output", str(tmp_path / "s")])
    assert proc.returncode == 0, proc.stderr
    assert "loaded into the PyTorch reference network" in proc.stdout
    reference = build_torch_model(arch, 10)
    reference.load_state_dict(torch.load(tmp_path / "s.pth", weights_only=True), strict=True)
    reference.eval()
    x = np.random.RandomState(1).randn(4, 3, 32, 32).astype(np.float32)
    net.set_train(False)
    with torch.no_grad():
        got = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, net(ms.Tensor(x)).asnumpy(), atol=1e-5, rtol=1e-5)

    back = tmp_path / "back.ckpt"
    proc = subprocess.run([sys.executable, "-m", "ats_ms.convert", "--arch", arch, "--input", str(tmp_path / "s.pth"),
                           "--output", str(back)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _, original = ckpt.read_meta(path)
    _, converted = ckpt.read_meta(str(back))
    names = [n for n, _ in ckpt.named_parameters(net)]
    for name in names:
        np.testing.assert_array_equal(converted[name].asnumpy(), original[name].asnumpy(), err_msg=name)


@pytest.mark.parametrize("arch,meta,reason", [
    ("shufflev2", {}, "has no PyTorch reference network"),
    ("resnet8", {"padding": "same"}, "'same' padding"),
])
def test_torch_export_refuses_what_its_reference_cannot_compute(tmp_path, arch, meta, reason):
    _, path, config = _checkpoint(str(tmp_path), arch, **meta)
    proc = _export(["--config", config, "--checkpoint", path, "--format", "torch", "--output", str(tmp_path / "s")])
    assert proc.returncode == 2 and reason in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr
    assert not os.path.exists(tmp_path / "s.pth")
