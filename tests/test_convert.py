"""PyTorch teacher import: reference PyTorch networks -> ats_ms, same logits in eval mode."""
import os

import numpy as np
import pytest

import mindspore as ms

from ats_ms.engine.import_model import convert
from ats_ms.common.errors import CheckpointError
from ats_ms.interop.pytorch import map_state_dict
from ats_ms.models import create_model
from train_helpers import run_cli

pytestmark = pytest.mark.torch  # needs PyTorch: skipped without it, run by CI's torch job

torch = pytest.importorskip("torch", reason="the converter needs torch (pip install torch); CI installs it")
from ats_ms.interop.torch_reference import RefResNet, RefVGG, RefWRN, randomise_batchnorm  # noqa: E402

CASES = {
    "resnet8": lambda: RefResNet(8, (16, 16, 32, 64), 100),
    "resnet8x4": lambda: RefResNet(8, (32, 64, 128, 256), 100),
    "wrn_16_2": lambda: RefWRN(16, 2, 100),
    "vgg8": lambda: RefVGG(8, 100),
    "vgg13": lambda: RefVGG(13, 100),
}


@pytest.mark.parametrize("arch", sorted(CASES))
def test_converted_network_gives_the_same_logits(arch, tmp_path):
    torch.manual_seed(0)
    ref = randomise_batchnorm(CASES[arch]()).eval()
    path = tmp_path / f"{arch}.pth"
    # RepDistiller saves {"model": state_dict, "epoch": ...}; DataParallel adds "module."
    torch.save({"model": {f"module.{k}": v for k, v in ref.state_dict().items()}, "epoch": 240}, path)
    out = tmp_path / f"{arch}.ckpt"
    proc = run_cli("ats_ms.convert", ["--arch", arch, "--input", str(path), "--output", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert f"({arch}, 100 classes)" in proc.stdout
    net = create_model(arch, 100)
    not_loaded, _ = ms.load_param_into_net(net, ms.load_checkpoint(str(out)))
    assert not_loaded == []
    net.set_train(False)
    x = np.random.RandomState(1).randn(4, 3, 32, 32).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(ms.Tensor(x)).asnumpy(), expected, atol=1e-4, rtol=1e-4)


def test_wrong_architecture_is_a_clear_error(tmp_path):
    path = tmp_path / "r8.pth"
    torch.save(RefResNet(8, (16, 16, 32, 64), 10).state_dict(), path)
    with pytest.raises(CheckpointError, match="does not hold a 'resnet14' network.*not found in the file"):
        convert("resnet14", str(path), str(tmp_path / "x.ckpt"))
    with pytest.raises(CheckpointError, match="shape mismatches"):
        convert("resnet8x4", str(path), str(tmp_path / "x.ckpt"))
    proc = run_cli("ats_ms.convert", ["--arch", "vgg8", "--input", str(path), "--output", str(tmp_path / "y.ckpt")])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "does not hold a 'vgg8'" in " ".join(proc.stderr.split())  # the paragraph is wrapped


def test_bottleneck_stage_names_are_mapped():
    """ResNet50 / ResNeXt references call their stages layer1..4; ats_ms calls them layers.0..3."""
    net = create_model("resnet50", 100)
    source = {}
    for name, param in net.parameters_and_names():
        torch_name = name.replace("layers.", "layer")
        torch_name = __import__("re").sub(r"^layer(\d)", lambda m: f"layer{int(m[1]) + 1}", torch_name)
        for ms_leaf, pt_leaf in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                                 ("moving_variance", "running_var")):
            if torch_name.endswith("." + ms_leaf):
                torch_name = torch_name[: -len(ms_leaf)] + pt_leaf
        source[torch_name] = np.zeros(param.shape, np.float32)
    source["bn1.num_batches_tracked"] = np.zeros((), np.int64)
    mapped, unused = map_state_dict(source, dict(net.parameters_and_names()))
    assert len(mapped) == len(list(net.get_parameters())) and unused == []


def test_a_file_that_asks_to_run_code_is_refused_without_advice_to_run_it(tmp_path):
    """torch.load(weights_only=True) refuses such a file and suggests weights_only=False; ats_ms says what the
    file asks for and that it will not load it."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "teacher.pth"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "opt": Payload()}, path)
    marker.unlink(missing_ok=True)  # torch.save ran nothing; be sure
    proc = run_cli("ats_ms.convert", ["--arch", "resnet8", "--input", str(path), "--output", str(tmp_path / "c.ckpt")])
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "asks to run code when it is loaded" in message and "system" in message
    assert "weights_only=False" not in message and "will not load it" in message
    assert not marker.exists() and not (tmp_path / "c.ckpt").exists()
