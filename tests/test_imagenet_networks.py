"""The ImageNet networks of the KD benchmarks through mindcv: published parameter counts, and torchvision-format
checkpoints converted to the same logits.

The PyTorch references are written here in torchvision's module layout (and, for MobileNet-V1, the layout of
the KD benchmark code: ``model.<i>`` + ``fc``) from the networks' published descriptions (He et al. 2016 with
the stride on the 3x3 convolution of a bottleneck; Sandler et al. 2018; Howard et al. 2017); torchvision itself
is not needed."""
import numpy as np
import pytest

import mindspore as ms

pytest.importorskip("mindcv", reason="mindcv networks need the mindcv extra (CI installs it)")
from ats_ms.models import count_params, create_model  # noqa: E402

pytestmark = pytest.mark.torch  # needs PyTorch: skipped without it, run by CI's torch job

PUBLISHED = {"mindcv:resnet18": 11_689_512, "mindcv:resnet34": 21_797_672, "mindcv:resnet50": 25_557_032,
             "mindcv:mobilenet_v2_100": 3_504_872, "mindcv:mobilenet_v1_100": 4_231_976}


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_the_benchmark_networks_have_their_published_parameter_counts(arch):
    assert count_params(create_model(arch, 1000)) == PUBLISHED[arch]


torch = pytest.importorskip("torch", reason="the PyTorch references need torch (CI installs it)")
nn, F = torch.nn, torch.nn.functional


def _cbr(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), act())


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class RefResNet(nn.Module):
    def __init__(self, block, layers, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, planes, 2 if (j == 0 and i > 0) else 1))
                cin = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


class _Inverted(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [_cbr(cin, hidden, 1, act=nn.ReLU6)]
        layers += [_cbr(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6), nn.Conv2d(hidden, cout, 1, bias=False),
                   nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class RefMobileNetV2(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        features, cin = [_cbr(3, 32, 3, 2, act=nn.ReLU6)], 32
        for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                           (6, 320, 1, 1)):
            for j in range(n):
                features.append(_Inverted(cin, c, s if j == 0 else 1, t))
                cin = c
        features.append(_cbr(320, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


class RefMobileNetV1(nn.Module):
    """The KD benchmarks' ImageNet MobileNet-V1: ``model`` of conv-bn-relu and depthwise-separable blocks, ``fc``."""

    def __init__(self, classes=1000):
        super().__init__()

        def dw(cin, cout, stride):
            return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                                 nn.ReLU(), nn.Conv2d(cin, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
        plan += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        self.model = nn.Sequential(_cbr(3, 32, 3, 2), *[dw(*p) for p in plan])
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        return self.fc(self.model(x).mean((2, 3)))


REFERENCES = {"mindcv:resnet18": lambda: RefResNet(_Basic, (2, 2, 2, 2)),
              "mindcv:resnet50": lambda: RefResNet(_Bottleneck, (3, 4, 6, 3)),
              "mindcv:mobilenet_v2_100": RefMobileNetV2, "mindcv:mobilenet_v1_100": RefMobileNetV1}


def _randomised(net, seed):
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.weight.data.copy_(1 + 0.1 * torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g))
    return net.eval()


@pytest.mark.parametrize("arch", sorted(REFERENCES))
def test_a_torchvision_format_checkpoint_converts_to_the_same_logits(arch, tmp_path):
    from ats_ms.engine.import_model import convert
    from ats_ms.engine.checkpoint import read_meta
    from ats_ms.models import normalization
    torch.manual_seed(0)
    ref = _randomised(REFERENCES[arch](), 1)
    path = tmp_path / "checkpoint.pth"
    torch.save(ref.state_dict(), path)
    _, found, classes, _, notes = convert(None, str(path), str(tmp_path / "c.ckpt"))  # recognised, no --arch
    assert (found, classes) == (arch, 1000), notes
    meta, params = read_meta(str(tmp_path / "c.ckpt"))
    assert normalization.recorded(meta) == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    options = {"pool_padding": str(meta["pool_padding"])} if "pool_padding" in meta else {}
    net = create_model(arch, 1000, **options)
    ms.load_param_into_net(net, {k: v for k, v in params.items() if "." in k})
    net.set_train(False)
    x = np.random.RandomState(2).randn(2, 3, 64, 64).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    got = net(ms.Tensor(x)).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    if options:  # the test can fail: mindcv's own stem pooling gives other logits
        assert options == {"pool_padding": "symmetric"}
        plain = create_model(arch, 1000)
        ms.load_param_into_net(plain, {k: v for k, v in params.items() if "." in k})
        plain.set_train(False)
        assert np.abs(plain(ms.Tensor(x)).asnumpy() - expected).max() > 1e-3
