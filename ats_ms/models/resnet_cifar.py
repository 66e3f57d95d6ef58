"""CIFAR ResNet-(6n+2) family (He et al. 2016), the RepDistiller / ATS-paper variant.

Parameter names follow the PyTorch reference (``conv1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``,
``fc``) so that published teachers convert with a BatchNorm-only renaming.  The model-zoo demo's ResNet
has the same names and shapes but pads its block convolutions with ``pad_mode="same"``;
``padding="same"`` builds exactly that network, so a demo checkpoint gives the demo's logits.
"""
from mindspore import nn

from ats_ms.models.layers import GlobalAvgPool, bn, conv, conv_bn, dense


class BasicBlock(nn.Cell):
    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"))

    def __init__(self, in_ch, out_ch, stride, same=False):
        super().__init__()
        self.conv1 = conv(in_ch, out_ch, 3, stride, same=same)
        self.bn1 = bn(out_ch)
        self.conv2 = conv(out_ch, out_ch, 3, same=same)
        self.bn2 = bn(out_ch)
        if stride != 1 or in_ch != out_ch:
            self.downsample = conv_bn(in_ch, out_ch, 1, stride, same=same)
        else:
            self.downsample = nn.Identity()
        self.relu = nn.ReLU()

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class ResNetCifar(nn.Cell):
    """``depth`` = 6n + 2; ``widths`` = stem width then the three stage widths; ``padding`` "symmetric"
    (the PyTorch references) or "same" (the model-zoo demo; the stem keeps its symmetric padding)."""

    FOLD_PAIRS = (("conv1", "bn1"),)

    def __init__(self, depth, widths=(16, 16, 32, 64), num_classes=100, padding="symmetric", in_channels=3):
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2 with n >= 1, got {depth}")
        n = (depth - 2) // 6
        self.conv1 = conv(in_channels, widths[0], 3)
        self.bn1 = bn(widths[0])
        self.relu = nn.ReLU()
        in_ch = widths[0]
        stages = []
        for width, stride in zip(widths[1:], (1, 2, 2)):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(in_ch, width, stride if j == 0 else 1, same=padding == "same"))
                in_ch = width
            stages.append(nn.SequentialCell(blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = GlobalAvgPool()
        self.fc = dense(in_ch, num_classes)
        self.num_classes = num_classes
        self.feature_dim = in_ch

    def construct(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.pool(x))


def build(depth, width_mult=1):
    widths = (16, 16, 32, 64) if width_mult == 1 else (32, 64, 128, 256)

    def factory(num_classes=100, padding="symmetric", in_channels=3):
        return ResNetCifar(depth, widths, num_classes, padding, in_channels)

    factory.options = ("padding",)
    factory.takes_in_channels = True
    return factory
