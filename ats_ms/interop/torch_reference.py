"""PyTorch versions of the CIFAR ResNet / WRN / VGG families, written from the published description of the CIFAR
benchmark networks (He et al. 2016; Zagoruyko & Komodakis 2016; RepDistiller's VGG with BatchNorm).

Used by the converter tests (known weights in, same logits out) and by ``ats_ms.bench --torch`` (the same
training step in PyTorch on the same machine).  Parameter names follow the reference code bases, so
``ats_ms.convert`` reads their state dicts.  Needs torch.
"""
import re

from ats_ms.common.optional import require

torch = require("torch", "The PyTorch reference networks (ats_ms.interop.torch_reference)")
nn = torch.nn
F = torch.nn.functional


class RefBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class RefResNet(nn.Module):
    def __init__(self, depth, widths, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for i, (w, s) in enumerate(zip(widths[1:], (1, 2, 2)), start=1):
            blocks = []
            for j in range(n):
                blocks.append(RefBasicBlock(cin, w, s if j == 0 else 1))
                cin = w
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class RefWRNBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equal = cin == cout
        self.convShortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x):
        act = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(act))))
        return (x if self.equal else self.convShortcut(act)) + out


class RefNetworkBlock(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(*[RefWRNBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1)
                                     for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class RefWRN(nn.Module):
    def __init__(self, depth, width, classes):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * width, 32 * width, 64 * width]
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.block1 = RefNetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = RefNetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = RefNetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.block3(self.block2(self.block1(self.conv1(x))))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


VGG_CONFIGS = {8: [[64], [128], [256], [512], [512]],
               11: [[64], [128], [256, 256], [512, 512], [512, 512]],
               13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
               16: [[64, 64], [128, 128], [256] * 3, [512] * 3, [512] * 3],
               19: [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4]}


class RefVGG(nn.Module):
    def __init__(self, depth, classes):
        super().__init__()
        cin = 3
        for i, widths in enumerate(VGG_CONFIGS[depth]):
            layers = []
            for w in widths:
                layers += [nn.Conv2d(cin, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                cin = w
            setattr(self, f"block{i}", nn.Sequential(*layers[:-1]))
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        for i in range(5):
            x = F.relu(getattr(self, f"block{i}")(x))
            if i < 3:
                x = F.max_pool2d(x, 2)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def randomise_batchnorm(net, seed=0):
    """Non-trivial BN statistics and affine terms, so that a wrong mapping shows in the logits."""
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
    return net


def build_torch_model(name, classes):
    """resnet<6n+2>, resnet8x4 / resnet32x4, wrn_<d>_<w>, vgg<8|11|13|16|19>."""
    m = re.fullmatch(r"resnet(\d+)(x4)?", name)
    if m:
        widths = (32, 64, 128, 256) if m[2] else (16, 16, 32, 64)
        return RefResNet(int(m[1]), widths, classes)
    m = re.fullmatch(r"wrn_(\d+)_(\d+)", name)
    if m:
        return RefWRN(int(m[1]), int(m[2]), classes)
    m = re.fullmatch(r"vgg(\d+)", name)
    if m and int(m[1]) in VGG_CONFIGS:
        return RefVGG(int(m[1]), classes)
    raise ValueError(f"no PyTorch reference for '{name}' (resnet, wrn and vgg families only)")
