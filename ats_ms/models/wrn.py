"""Wide ResNet WRN-d-w (Zagoruyko & Komodakis 2016) with pre-activation blocks, dropout 0.

Names follow RepDistiller's ``wrn.py`` (``block1.layer.0.bn1``, ``convShortcut``) for weight import.
"""
from mindspore import nn

from ats_ms.models.layers import GlobalAvgPool, bn, conv, dense


class PreActBlock(nn.Cell):
    """BN-ReLU-conv-BN-ReLU-conv.  When the width changes, the 1x1 shortcut sees the *activated*
    input, as in the reference; otherwise the raw input is added.  ``bn2`` is fed by ``conv1`` alone,
    so a frozen copy folds it; ``bn1`` is a pre-activation and stays."""

    FOLD_PAIRS = (("conv1", "bn2"),)

    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        self.equal_in_out = in_ch == out_ch and stride == 1
        self.bn1 = bn(in_ch)
        self.conv1 = conv(in_ch, out_ch, 3, stride)
        self.bn2 = bn(out_ch)
        self.conv2 = conv(out_ch, out_ch, 3)
        self.relu = nn.ReLU()
        if not self.equal_in_out:
            self.convShortcut = conv(in_ch, out_ch, 1, stride)  # pylint: disable=invalid-name

    def construct(self, x):
        act = self.relu(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(self.conv1(act))))
        if self.equal_in_out:
            return x + out
        return self.convShortcut(act) + out


class NetworkBlock(nn.Cell):
    def __init__(self, n, in_ch, out_ch, stride):
        super().__init__()
        self.layer = nn.SequentialCell(
            [PreActBlock(in_ch if i == 0 else out_ch, out_ch, stride if i == 0 else 1) for i in range(n)])

    def construct(self, x):
        return self.layer(x)


class WideResNet(nn.Cell):
    def __init__(self, depth, widen_factor, num_classes=100, in_channels=3):
        super().__init__()
        if (depth - 4) % 6 != 0 or depth < 10:
            raise ValueError(f"WRN depth must be 6n+4 with n >= 1, got {depth}")
        if widen_factor < 1:
            raise ValueError(f"WRN width must be >= 1, got {widen_factor}")
        n = (depth - 4) // 6
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = conv(in_channels, ch[0], 3)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = bn(ch[3])
        self.relu = nn.ReLU()
        self.pool = GlobalAvgPool()
        self.fc = dense(ch[3], num_classes)
        self.num_classes = num_classes
        self.feature_dim = ch[3]

    def construct(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(self.pool(self.relu(self.bn1(x))))


def build(depth, width):
    def factory(num_classes=100, in_channels=3):
        return WideResNet(depth, width, num_classes, in_channels)

    factory.takes_in_channels = True
    return factory
