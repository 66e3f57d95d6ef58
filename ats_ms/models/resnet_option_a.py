"""The original CIFAR ResNets of He et al. (2016, section 4.2), with parameter-free "option A" shortcuts.

Published under names like ``resnet20_a`` (any depth 6n + 2): a 3x3 convolution with 16 channels, BatchNorm
and ReLU; three stages of n basic blocks with 16, 32 and 64 channels (the first block of stages 2 and 3
halves the resolution); global average pooling; a linear classifier.  Where a block halves the resolution
and doubles the channels, its shortcut has no weights: the input is subsampled (every second row and
column) and zero channels are added, half before and half after.  This is the network of widely used public
CIFAR-10 checkpoints (e.g. the BSD-licensed repository akamaster/pytorch_resnet_cifar10), whose parameter
names it keeps: ``conv1``, ``bn1``, ``layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2}``, ``linear``.

It differs from ats_ms's ``resnet<d>`` (the RepDistiller / ATS-paper variant) only in those shortcuts, which
there are 1x1 convolutions with BatchNorm; the parameter counts are the published ones (0.27M for ResNet-20
... 19.4M for ResNet-1202 at 10 classes).
"""
from mindspore import nn, ops

from ats_ms.models.layers import GlobalAvgPool, bn, conv, dense


class ShortcutA(nn.Cell):
    """Identity with subsampling and zero channel padding: x[:, :, ::2, ::2] with ``pad`` zero channels on
    each side."""

    def __init__(self, pad):
        super().__init__()
        self.pad = pad

    def construct(self, x):
        return ops.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlockA(nn.Cell):
    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"))

    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        self.conv1 = conv(in_ch, out_ch, 3, stride)
        self.bn1 = bn(out_ch)
        self.conv2 = conv(out_ch, out_ch, 3)
        self.bn2 = bn(out_ch)
        self.shortcut = ShortcutA(out_ch // 4) if stride != 1 or in_ch != out_ch else nn.Identity()
        self.relu = nn.ReLU()

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNetOptionA(nn.Cell):
    FOLD_PAIRS = (("conv1", "bn1"),)

    def __init__(self, depth, num_classes=10, in_channels=3):
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2 with n >= 1, got {depth}")
        n = (depth - 2) // 6
        self.conv1 = conv(in_channels, 16, 3)
        self.bn1 = bn(16)
        self.relu = nn.ReLU()
        in_ch = 16
        stages = []
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlockA(in_ch, width, stride if j == 0 else 1))
                in_ch = width
            stages.append(nn.SequentialCell(blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = GlobalAvgPool()
        self.linear = dense(64, num_classes)
        self.num_classes = num_classes
        self.feature_dim = 64

    def construct(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(self.pool(x))


def build(depth):
    def factory(num_classes=10, in_channels=3):
        return ResNetOptionA(depth, num_classes, in_channels)

    factory.takes_in_channels = True
    return factory
