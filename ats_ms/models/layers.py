"""Building blocks shared by every CIFAR network, initialised like the PyTorch references.

The references (RepDistiller, the ATS code) use Kaiming-normal ``fan_out`` convolutions, BatchNorm with
gamma 1 / beta 0 and PyTorch momentum 0.1 (MindSpore 0.9), and explicit padding.  Keeping those choices
in one place is what makes parameter counts, parameter names and converted PyTorch weights line up.
"""
from mindspore import nn, ops
from mindspore.common.initializer import HeNormal, Normal, Zero

from ats_ms.models.conv import Conv2d

BN_MOMENTUM = 0.9  # MindSpore convention: moving = momentum * moving + (1 - momentum) * batch
BN_EPS = 1e-5


def conv(in_ch, out_ch, kernel_size, stride=1, padding=None, groups=1, bias=False, same=False):
    """Conv2d with explicit symmetric padding (k // 2 unless given) and Kaiming fan_out init.

    ``same=True`` pads like TensorFlow / MindSpore ``pad_mode="same"``, as the model-zoo demo's ResNet does:
    a stride-2 3x3 convolution on an even-sized input then pads nothing above/left and one row/column
    below/right, where symmetric padding pads one on every side (same output size, other values)."""
    if same:
        return Conv2d(in_ch, out_ch, kernel_size, stride=stride, pad_mode="same", group=groups, has_bias=bias,
                         weight_init=HeNormal(mode="fan_out", nonlinearity="relu"),
                         bias_init=Zero() if bias else None)
    if padding is None:
        padding = kernel_size // 2
    return Conv2d(in_ch, out_ch, kernel_size, stride=stride,
                     pad_mode="pad" if padding else "valid", padding=padding,
                     group=groups, has_bias=bias,
                     weight_init=HeNormal(mode="fan_out", nonlinearity="relu"),
                     bias_init=Zero() if bias else None)


def bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def conv_bn(in_ch, out_ch, kernel_size, stride=1, groups=1, same=False):
    """Conv (no bias) followed by BatchNorm, as an ordered pair named ``0`` and ``1``."""
    return nn.SequentialCell([conv(in_ch, out_ch, kernel_size, stride, groups=groups, same=same), bn(out_ch)])


def dense(in_features, out_features, normal_std=None):
    """Linear classifier.  Default init matches PyTorch's nn.Linear; VGG uses N(0, 0.01)."""
    if normal_std is None:
        return nn.Dense(in_features, out_features)
    return nn.Dense(in_features, out_features, weight_init=Normal(normal_std), bias_init=Zero())


class GlobalAvgPool(nn.Cell):
    """Mean over H and W: equals the references' fixed 8x8 / 4x4 pooling at 32x32 input and
    keeps every network usable at other sizes (8x8 digits, 64x64 image folders)."""

    def construct(self, x):
        return ops.mean(x, (2, 3))


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    x = ops.reshape(x, (n, groups, c // groups, h, w))
    x = ops.transpose(x, (0, 2, 1, 3, 4))
    return ops.reshape(x, (n, c, h, w))
