"""ShuffleNet V1 (g = 3) and V2 (1x) for CIFAR, the RepDistiller student variants: 1x1 stem to
24 channels at full resolution, three stride-2 stages, global pool, Linear."""
from mindspore import nn, ops

from ats_ms.models.layers import GlobalAvgPool, bn, channel_shuffle, conv, dense


class ShuffleV1Unit(nn.Cell):
    """Grouped 1x1 -> shuffle -> depthwise 3x3 -> grouped 1x1.  Stride 2 concatenates a 3x3
    average-pooled shortcut (so ``out_ch`` excludes the input channels); stride 1 adds it."""

    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def __init__(self, in_ch, out_ch, stride, groups):
        super().__init__()
        mid = out_ch // 4
        self.first_groups = 1 if in_ch == 24 else groups
        self.stride = stride
        self.conv1 = conv(in_ch, mid, 1, groups=self.first_groups)
        self.bn1 = bn(mid)
        self.conv2 = conv(mid, mid, 3, stride, groups=mid)
        self.bn2 = bn(mid)
        self.conv3 = conv(mid, out_ch, 1, groups=groups)
        self.bn3 = bn(out_ch)
        self.relu = nn.ReLU()
        self.avgpool = nn.AvgPool2d(kernel_size=3, stride=2, pad_mode="pad", padding=1, count_include_pad=True)

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_groups)
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            return self.relu(ops.concat((out, self.avgpool(x)), 1))
        return self.relu(out + x)


class ShuffleNetV1(nn.Cell):
    FOLD_PAIRS = (("conv1", "bn1"),)

    def __init__(self, out_planes=(240, 480, 960), num_blocks=(4, 8, 4), groups=3, num_classes=100):
        super().__init__()
        self.conv1 = conv(3, 24, 1)
        self.bn1 = bn(24)
        self.relu = nn.ReLU()
        in_ch = 24
        stages = []
        for width, n in zip(out_planes, num_blocks):
            units = []
            for i in range(n):
                units.append(ShuffleV1Unit(in_ch, width - (in_ch if i == 0 else 0), 2 if i == 0 else 1, groups))
                in_ch = width
            stages.append(nn.SequentialCell(units))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = GlobalAvgPool()
        self.linear = dense(in_ch, num_classes)
        self.num_classes = num_classes
        self.feature_dim = in_ch

    def construct(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(self.pool(x))


class ShuffleV2Unit(nn.Cell):
    """Split channels in half, transform one half, concatenate, shuffle."""

    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def __init__(self, channels):
        super().__init__()
        self.half = channels // 2
        c = self.half
        self.conv1 = conv(c, c, 1)
        self.bn1 = bn(c)
        self.conv2 = conv(c, c, 3, groups=c)
        self.bn2 = bn(c)
        self.conv3 = conv(c, c, 1)
        self.bn3 = bn(c)
        self.relu = nn.ReLU()

    def construct(self, x):
        x1 = x[:, :self.half]
        x2 = x[:, self.half:]
        out = self.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = self.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(ops.concat((x1, out), 1), 2)


class ShuffleV2Down(nn.Cell):
    """Stride-2 unit: both branches see the whole input and each produces half the output."""

    FOLD_PAIRS = tuple((f"conv{i}", f"bn{i}") for i in range(1, 6))

    def __init__(self, in_ch, out_ch):
        super().__init__()
        mid = out_ch // 2
        self.conv1 = conv(in_ch, in_ch, 3, 2, groups=in_ch)
        self.bn1 = bn(in_ch)
        self.conv2 = conv(in_ch, mid, 1)
        self.bn2 = bn(mid)
        self.conv3 = conv(in_ch, mid, 1)
        self.bn3 = bn(mid)
        self.conv4 = conv(mid, mid, 3, 2, groups=mid)
        self.bn4 = bn(mid)
        self.conv5 = conv(mid, mid, 1)
        self.bn5 = bn(mid)
        self.relu = nn.ReLU()

    def construct(self, x):
        left = self.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = self.bn4(self.conv4(self.relu(self.bn3(self.conv3(x)))))
        right = self.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(ops.concat((left, right), 1), 2)


class ShuffleNetV2(nn.Cell):
    FOLD_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"))

    def __init__(self, out_channels=(116, 232, 464, 1024), num_blocks=(3, 7, 3), num_classes=100):
        super().__init__()
        self.conv1 = conv(3, 24, 1)
        self.bn1 = bn(24)
        self.relu = nn.ReLU()
        in_ch = 24
        stages = []
        for width, n in zip(out_channels[:3], num_blocks):
            stages.append(nn.SequentialCell([ShuffleV2Down(in_ch, width)] + [ShuffleV2Unit(width) for _ in range(n)]))
            in_ch = width
        self.layer1, self.layer2, self.layer3 = stages
        self.conv2 = conv(in_ch, out_channels[3], 1)
        self.bn2 = bn(out_channels[3])
        self.pool = GlobalAvgPool()
        self.linear = dense(out_channels[3], num_classes)
        self.num_classes = num_classes
        self.feature_dim = out_channels[3]

    def construct(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.linear(self.pool(x))


def shufflev1(num_classes=100):
    return ShuffleNetV1(num_classes=num_classes)


def shufflev2(num_classes=100):
    return ShuffleNetV2(num_classes=num_classes)
