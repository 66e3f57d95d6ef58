"""MobileNetV2 for CIFAR as used by the KD benchmarks (RepDistiller ``mobile_half``: width 0.5,
expansion 6, a stride-2 stem, last 1x1 conv to 1280 channels)."""
from mindspore import nn

from ats_ms.models.layers import GlobalAvgPool, bn, conv, dense

# (expansion, channels, repeats, first stride); expansion "T" is filled in by the constructor
SETTINGS = [(1, 16, 1, 1), ("T", 24, 2, 1), ("T", 32, 3, 2), ("T", 64, 4, 2),
            ("T", 96, 3, 1), ("T", 160, 3, 2), ("T", 320, 1, 1)]


def _conv_bn_relu(in_ch, out_ch, k, stride=1, groups=1):
    return [conv(in_ch, out_ch, k, stride, groups=groups), bn(out_ch), nn.ReLU()]


class InvertedResidual(nn.Cell):
    def __init__(self, in_ch, out_ch, stride, expansion):
        super().__init__()
        hidden = in_ch * expansion
        self.use_res_connect = stride == 1 and in_ch == out_ch
        self.conv = nn.SequentialCell(
            _conv_bn_relu(in_ch, hidden, 1)
            + _conv_bn_relu(hidden, hidden, 3, stride, groups=hidden)
            + [conv(hidden, out_ch, 1), bn(out_ch)])

    def construct(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Cell):
    def __init__(self, expansion=6, width_mult=0.5, num_classes=100):
        super().__init__()
        in_ch = int(32 * width_mult)
        self.conv1 = nn.SequentialCell(_conv_bn_relu(3, in_ch, 3, 2))
        stages = []
        for t, c, n, s in SETTINGS:
            out_ch = int(c * width_mult)
            layers = []
            for i in range(n):
                layers.append(InvertedResidual(in_ch, out_ch, s if i == 0 else 1, expansion if t == "T" else t))
                in_ch = out_ch
            stages.append(nn.SequentialCell(layers))
        self.blocks = nn.SequentialCell(stages)
        self.last_channel = 1280
        self.conv2 = nn.SequentialCell(_conv_bn_relu(in_ch, self.last_channel, 1))
        self.pool = GlobalAvgPool()
        self.classifier = nn.SequentialCell([dense(self.last_channel, num_classes)])
        self.num_classes = num_classes
        self.feature_dim = self.last_channel

    def construct(self, x):
        x = self.conv2(self.blocks(self.conv1(x)))
        return self.classifier(self.pool(x))


def build(width_mult=0.5):
    def factory(num_classes=100):
        return MobileNetV2(6, width_mult, num_classes)

    return factory
