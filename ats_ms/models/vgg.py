"""VGG with BatchNorm for CIFAR (RepDistiller layout: five conv blocks, pools after blocks 0-2,
global average pool, one Linear 512 -> C).  Convolutions carry a bias, as in the reference; ``conv_bias=False``
builds the MindSpore model-zoo demo's VGG, whose convolutions have none (MindSpore's ``nn.Conv2d`` default)."""
from mindspore import nn

from ats_ms.models.layers import GlobalAvgPool, bn, conv, dense

CONFIGS = {
    8: [[64], [128], [256], [512], [512]],
    11: [[64], [128], [256, 256], [512, 512], [512, 512]],
    13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
}


def _block(in_ch, widths, conv_bias=True):
    """conv-BN-ReLU ... conv-BN: the block's last ReLU is applied by VGG.construct, as in the
    reference, so feature taps see pre-activation outputs."""
    layers = []
    for w in widths:
        layers += [conv(in_ch, w, 3, bias=conv_bias), bn(w), nn.ReLU()]
        in_ch = w
    return nn.SequentialCell(layers[:-1])


class VGG(nn.Cell):
    def __init__(self, depth, num_classes=100, conv_bias=True, in_channels=3):
        super().__init__()
        cfg = CONFIGS[depth]
        ins = [in_channels] + [block[-1] for block in cfg[:-1]]
        self.block0, self.block1, self.block2, self.block3, self.block4 = [
            _block(i, widths, conv_bias) for i, widths in zip(ins, cfg)]
        self.maxpool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.relu = nn.ReLU()
        self.pool = GlobalAvgPool()
        self.classifier = dense(cfg[-1][-1], num_classes, normal_std=0.01)
        self.num_classes = num_classes
        self.feature_dim = cfg[-1][-1]

    def construct(self, x):
        x = self.maxpool(self.relu(self.block0(x)))
        x = self.maxpool(self.relu(self.block1(x)))
        x = self.maxpool(self.relu(self.block2(x)))
        x = self.relu(self.block3(x))
        x = self.relu(self.block4(x))
        return self.classifier(self.pool(x))


def build(depth):
    def factory(num_classes=100, conv_bias=True, in_channels=3):
        return VGG(depth, num_classes, conv_bias, in_channels)

    factory.options = ("conv_bias",)
    factory.takes_in_channels = True
    return factory
