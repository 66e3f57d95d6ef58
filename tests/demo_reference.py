"""The model-zoo demo's networks (``research/cv/ats/src/resnet.py`` and ``src/vgg.py``), rebuilt here from
the demo's own source (MindSpore models repository, research/cv/ats) with plain MindSpore cells and nothing from ``ats_ms.models``:
the reference that demo-checkpoint tests compare ats_ms against.

- ResNet: a 3x3 stem conv (padding 1, ``pad_mode="pad"``), then every 3x3 and 1x1 convolution with
  ``pad_mode="same"``; no conv bias; BatchNorm momentum 0.99, eps 1e-5; ``AvgPool2d(8)``; ``fc``.
- VGG: blocks ``block0..4`` of [Conv2d 3x3 padding 1 ``pad_mode="pad"`` **without bias**, BatchNorm2d,
  ReLU] minus each block's last ReLU; max-pool after blocks 0-2; ``AvgPool2d(4)``; ``classifier``.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops

VGG_CFG = {8: [[64], [128], [256], [512], [512]], 11: [[64], [128], [256, 256], [512, 512], [512, 512]]}


def _bn(channels):
    return nn.BatchNorm2d(channels, momentum=0.99, eps=1e-5)


class DemoBlock(nn.Cell):
    def __init__(self, cin, cout, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, pad_mode="same", has_bias=False)
        self.bn1 = _bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, pad_mode="same", has_bias=False)
        self.bn2 = _bn(cout)
        self.relu = ops.ReLU()
        self.downsample = downsample

    def construct(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class DemoResNet(nn.Cell):
    def __init__(self, depth, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, pad_mode="pad", has_bias=False)
        self.bn1 = _bn(16)
        self.relu = ops.ReLU()
        cin = 16
        stages = []
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                s = stride if i == 0 else 1
                down = None
                if s != 1 or cin != planes:
                    down = nn.SequentialCell([nn.Conv2d(cin, planes, 1, stride=s, pad_mode="same", has_bias=False),
                                              _bn(planes)])
                blocks.append(DemoBlock(cin, planes, s, down))
                cin = planes
            stages.append(nn.SequentialCell(blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Dense(64, classes)

    def construct(self, x):
        f = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        f = self.avgpool(f)
        return self.fc(f.view(f.shape[0], -1))


class DemoVGG(nn.Cell):
    def __init__(self, depth, classes):
        super().__init__()
        cfg = VGG_CFG[depth]
        ins = [3] + [c[-1] for c in cfg[:-1]]
        self.block0, self.block1, self.block2, self.block3, self.block4 = [
            self._block(cin, widths) for cin, widths in zip(ins, cfg)]
        self.pool0 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.avgpool = nn.AvgPool2d(4)
        self.relu = ops.ReLU()
        self.classifier = nn.Dense(512, classes)

    @staticmethod
    def _block(cin, widths):
        layers = []
        for v in widths:
            layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1, pad_mode="pad"), nn.BatchNorm2d(v), nn.ReLU()]
            cin = v
        return nn.SequentialCell(layers[:-1])

    def construct(self, x):
        f = self.pool0(self.relu(self.block0(x)))
        f = self.pool1(self.relu(self.block1(f)))
        f = self.pool2(self.relu(self.block2(f)))
        f = self.relu(self.block4(self.relu(self.block3(f))))
        f = self.avgpool(f)
        return self.classifier(f.view(f.shape[0], -1))


def randomize_batchnorm(net, seed=0):
    """Trained-looking BatchNorm statistics, so that padding or bias differences would show in the logits."""
    rng = np.random.RandomState(seed)
    for name, param in net.parameters_and_names():
        shape = param.shape
        if name.endswith("moving_mean"):
            param.set_data(ms.Tensor(rng.randn(*shape).astype(np.float32) * 0.1))
        elif name.endswith("moving_variance"):
            param.set_data(ms.Tensor(rng.uniform(0.5, 2.0, shape).astype(np.float32)))
        elif name.endswith("gamma"):
            param.set_data(ms.Tensor(rng.uniform(0.5, 1.5, shape).astype(np.float32)))
        elif name.endswith("beta"):
            param.set_data(ms.Tensor(rng.randn(*shape).astype(np.float32) * 0.1))
    net.set_train(False)
    return net


def demo_network(name, classes=100):
    """'ResNet14' / 'VGG8' ... as the demo builds them."""
    low = name.lower()
    if low.startswith("resnet"):
        return DemoResNet(int(low[6:]), classes)
    return DemoVGG(int(low[3:]), classes)
