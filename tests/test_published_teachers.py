"""The original CIFAR ResNets (He et al. 2016, option-A shortcuts) and published checkpoints of them.

The PyTorch reference below is written here from the published description (the paper's section 4.2 and the
public checkpoints' layout), not from ats_ms: 3x3 conv 16 + BN + ReLU, three stages of n basic blocks
(16/32/64 channels, first blocks of stages 2-3 with stride 2), the shortcut of a block that halves the
resolution subsamples its input and pads zero channels (planes // 4 on each side), global average pooling,
``linear``.
"""
import io
import os
import tarfile

import numpy as np
import pytest

import mindspore as ms

from ats_ms.engine.import_model import convert
from ats_ms.engine.checkpoint import read_meta
from ats_ms.interop.published import IMAGENET_MEAN_STD
from ats_ms.models import count_params, create_model, normalization
from conftest import SHARED

pytestmark = pytest.mark.torch  # needs PyTorch: skipped without it, run by CI's torch job

PUBLISHED_M = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7, 1202: 19.4}  # millions, at 10 classes
PRETRAINED = os.path.join(SHARED, "data", "pretrained", "cifar10-resnet-he2016")
FILES = {20: "resnet20-12fca82f.th", 32: "resnet32-d509ac18.th", 56: "resnet56-4bfd9763.th"}


def option_a_params(depth, classes=10):
    """Closed form: stem conv + BN, 3 stages of n blocks (two 3x3 convs + two BNs each), no shortcut weights,
    linear classifier."""
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16
    in_ch = 16
    for width in (16, 32, 64):
        for _ in range(n):
            total += in_ch * width * 9 + 2 * width + width * width * 9 + 2 * width
            in_ch = width
    return total + 64 * classes + classes


@pytest.mark.parametrize("depth", [8, 14, 20, 32, 44, 56, 110, 1202])
def test_option_a_resnets_have_the_published_parameter_counts(depth):
    expected = option_a_params(depth)
    assert count_params(create_model(f"resnet{depth}_a", 10)) == expected
    if depth in PUBLISHED_M:
        assert round(expected / 1e6, 2 if depth < 110 else 1) == PUBLISHED_M[depth]


torch = pytest.importorskip("torch", reason="the PyTorch reference needs torch (CI installs it)")
nn, F = torch.nn, torch.nn.functional


class _Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class RefResNetA(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin, stages = 16, []
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for j in range(n):
                blocks.append(_Block(cin, planes, stride if j == 0 else 1))
                cin = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.linear(F.avg_pool2d(x, x.size()[3]).flatten(1))


def _random_statistics(net, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g))
    return net.eval()


def _torch_logits(net, x):
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def _ours(path):
    meta, params = read_meta(path, "converted checkpoint")
    net = create_model(str(meta["arch"]), int(meta["num_classes"]))
    ms.load_param_into_net(net, {k: v for k, v in params.items() if "." in k})
    net.set_train(False)
    return net, meta


def test_a_checkpoint_of_that_family_is_recognised_converted_and_gives_the_same_logits(tmp_path):
    torch.manual_seed(0)
    ref = _random_statistics(RefResNetA(32))
    path = tmp_path / "resnet32-00000000.th"  # the published naming; the hex does not match this file
    torch.save({"state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}, "best_prec1": 90.0}, path)
    out = tmp_path / "converted.ckpt"
    _, arch, classes, unused, notes = convert(None, str(path), str(out))  # no --arch: recognised
    assert (arch, classes) == ("resnet32_a", 10) and unused == []
    assert any("not the published file" in n for n in notes)
    net, meta = _ours(str(out))
    assert normalization.recorded(meta) == IMAGENET_MEAN_STD
    x = np.random.RandomState(1).randn(4, 3, 32, 32).astype(np.float32)
    expected = _torch_logits(ref, x)
    np.testing.assert_allclose(net(ms.Tensor(x)).asnumpy(), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_a_teacher_trained_with_other_statistics_is_fed_its_own(tmp_path):
    """Inside a run normalising with CIFAR-10's statistics, a teacher that records ImageNet's gets exactly the
    inputs it was trained on: its logits equal the reference network's on ImageNet-normalised images."""
    from ats_ms.config import load_config
    from ats_ms.distill.frozen import FrozenTeacher
    from ats_ms.engine.restore import teacher_network
    from ats_ms.data.constants import MEAN_STD
    torch.manual_seed(1)
    ref = _random_statistics(RefResNetA(20), seed=1)
    path = tmp_path / "resnet20-00000000.th"
    torch.save({"state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}, "best_prec1": 90.0}, path)
    convert(None, str(path), str(tmp_path / "t.ckpt"))
    cfg = load_config(None, ["data.name=cifar10", "distill.method=ats", "teacher.arch=resnet20_a",
                             f"teacher.checkpoint={tmp_path / 't.ckpt'}"])
    pipeline = MEAN_STD["cifar10"]
    restored = teacher_network(cfg, 10, pipeline)
    net, notes = restored.net, restored.notes
    assert any("exact per-channel map" in n for n in notes)
    teacher = FrozenTeacher(net)  # BatchNorm folded as in training
    raw = np.random.RandomState(2).randint(0, 256, (4, 32, 32, 3)).astype(np.float32) / 255.0
    seen = ((raw - np.array(pipeline[0])) / np.array(pipeline[1])).transpose(0, 3, 1, 2).astype(np.float32)
    own = ((raw - np.array(IMAGENET_MEAN_STD[0])) / np.array(IMAGENET_MEAN_STD[1])).transpose(0, 3, 1, 2)
    expected = _torch_logits(ref, own.astype(np.float32))
    np.testing.assert_allclose(teacher(ms.Tensor(seen)).asnumpy(), expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())
    # teacher.mean / teacher.std override what the checkpoint records (here: the pipeline's own, no map)
    cfg.teacher.mean, cfg.teacher.std = list(pipeline[0]), list(pipeline[1])
    restored = teacher_network(cfg, 10, pipeline)
    plain, notes = restored.net, restored.notes
    assert not notes and not isinstance(plain, normalization.Renormalize)


@pytest.fixture(scope="module")
def cifar10_jpeg_test_split():
    """The shared CIFAR-10 test split, decoded once with pillow: (uint8 NHWC images, labels)."""
    archive = os.path.join(SHARED, "data", "cifar10-jpg.tar.gz")
    if not os.path.exists(archive) or not os.path.isdir(PRETRAINED):
        pytest.skip("the shared CIFAR-10 and published teachers are not beside this checkout")
    from PIL import Image
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    images, labels = [], []
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 3 and parts[-3] == "test":
                images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")))
                labels.append(classes.index(parts[-2]))
    assert len(images) == 10_000
    return np.stack(images), np.array(labels)


@pytest.mark.parametrize("depth", sorted(FILES))
def test_the_published_teachers_give_pytorchs_logits_and_top1_on_real_cifar10(depth, cifar10_jpeg_test_split, tmp_path):
    images, labels = cifar10_jpeg_test_split
    source = os.path.join(PRETRAINED, FILES[depth])
    out = tmp_path / f"resnet{depth}_a.ckpt"
    _, arch, classes, unused, notes = convert(None, source, str(out))
    assert (arch, classes, unused) == (f"resnet{depth}_a", 10, [])
    assert any("byte for byte the published one" in n for n in notes)
    ref = RefResNetA(depth)
    state = torch.load(source, map_location="cpu", weights_only=True)["state_dict"]
    ref.load_state_dict({k[len("module."):]: v for k, v in state.items()})
    ref.eval()
    net, meta = _ours(str(out))
    mean, std = normalization.recorded(meta)  # ImageNet's: what these networks were trained with
    x = ((images / 255.0 - np.array(mean)) / np.array(std)).transpose(0, 3, 1, 2).astype(np.float32)
    ours, theirs = [], []
    for start in range(0, len(x), 500):
        batch = x[start:start + 500]
        ours.append(net(ms.Tensor(batch)).asnumpy())
        theirs.append(_torch_logits(ref, batch))
    ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * np.abs(theirs).max())
    top1 = {name: float((z.argmax(1) == labels).mean()) for name, z in (("ats_ms", ours), ("pytorch", theirs))}
    assert top1["ats_ms"] == top1["pytorch"], top1
    assert 0.5 < top1["ats_ms"] < 0.95  # trained networks, below their published accuracy on re-encoded images


def test_a_folder_of_checkpoints_converts_in_one_command(tmp_path, capsys):
    from ats_ms import convert as convert_cmd
    from ats_ms.cli import run_cli
    folder, out = tmp_path / "downloads", tmp_path / "teachers"
    folder.mkdir()
    out.mkdir()
    for depth in (8, 14):
        ref = RefResNetA(depth)
        torch.save({"state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}, "best_prec1": 1.0},
                   folder / f"resnet{depth}-00000000.th")
    torch.save({"something": torch.zeros(3)}, folder / "unknown.pth")
    code = run_cli(convert_cmd.main, ["--input", str(folder), "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 1  # one file was not of a recognised family
    assert sorted(os.listdir(out)) == ["resnet14_a.ckpt", "resnet8_a.ckpt"]
    assert "skipped" in printed and "unknown.pth" in printed and "(--arch" in printed
    assert normalization.recorded(read_meta(str(out / "resnet8_a.ckpt"))[0]) == IMAGENET_MEAN_STD
