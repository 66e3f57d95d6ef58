"""Bottleneck networks used as large CIFAR teachers: ResNet50 (CIFAR stem, RepDistiller
``resnetv2``) and ResNeXt-29 (Xie et al. 2017, CIFAR variant) for the ATS paper's teacher ladders."""
from mindspore import nn

from ats_ms.models.layers import GlobalAvgPool, bn, conv, conv_bn, dense


class Bottleneck(nn.Cell):
    """1x1 reduce -> 3x3 (optionally grouped, carries the stride) -> 1x1 expand, projection shortcut
    when the shape changes."""

    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def __init__(self, in_ch, mid_ch, out_ch, stride, groups=1):
        super().__init__()
        self.conv1 = conv(in_ch, mid_ch, 1)
        self.bn1 = bn(mid_ch)
        self.conv2 = conv(mid_ch, mid_ch, 3, stride, groups=groups)
        self.bn2 = bn(mid_ch)
        self.conv3 = conv(mid_ch, out_ch, 1)
        self.bn3 = bn(out_ch)
        self.relu = nn.ReLU()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = conv_bn(in_ch, out_ch, 1, stride)
        else:
            self.shortcut = nn.Identity()

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class BottleneckNet(nn.Cell):
    """stem -> stages of Bottlenecks -> global pool -> ``linear``.

    ``stages`` lists (blocks, mid width, out width, stride, groups) per stage.
    """

    FOLD_PAIRS = (("conv1", "bn1"),)

    def __init__(self, stem_kernel, stages, num_classes=100):
        super().__init__()
        self.conv1 = conv(3, 64, stem_kernel)
        self.bn1 = bn(64)
        self.relu = nn.ReLU()
        in_ch = 64
        layers = []
        for n, mid, out, stride, groups in stages:
            blocks = []
            for i in range(n):
                blocks.append(Bottleneck(in_ch, mid, out, stride if i == 0 else 1, groups))
                in_ch = out
            layers.append(nn.SequentialCell(blocks))
        self.layers = nn.SequentialCell(layers)
        self.pool = GlobalAvgPool()
        self.linear = dense(in_ch, num_classes)
        self.num_classes = num_classes
        self.feature_dim = in_ch

    def construct(self, x):
        x = self.layers(self.relu(self.bn1(self.conv1(x))))
        return self.linear(self.pool(x))


def resnet50(num_classes=100):
    stages = [(3, 64, 256, 1, 1), (4, 128, 512, 2, 1), (6, 256, 1024, 2, 1), (3, 512, 2048, 2, 1)]
    return BottleneckNet(3, stages, num_classes)


def build_resnext29(cardinality, bottleneck_width):
    """ResNeXt-29 CxWd: three stages of three blocks; the grouped width C*W doubles per stage and
    each block expands it 2x.  Stem is a 1x1 conv to 64 channels (CIFAR variant)."""

    def factory(num_classes=100):
        stages = []
        for stage, stride in enumerate((1, 2, 2)):
            gw = cardinality * bottleneck_width * 2 ** stage
            stages.append((3, gw, 2 * gw, stride, cardinality))
        return BottleneckNet(1, stages, num_classes)

    return factory
