"""Fold a frozen network's BatchNorm layers into the convolutions they follow.

A teacher in inference mode applies BatchNorm as a fixed per-channel affine map,
``y = gamma * (x - mean) / sqrt(var + eps) + beta``; when ``x`` is a convolution's output the map can be
absorbed into that convolution's weight and bias, which removes one full pass over every feature map
from the teacher's forward.  Only exact pairs are folded: consecutive (Conv2d, BatchNorm) entries of a
``SequentialCell``, and the attribute pairs a block lists in ``FOLD_PAIRS`` (a BatchNorm fed by nothing
but that convolution).  Pre-activation BatchNorms (WRN's ``bn1``) stay as they are.
"""
import numpy as np
import mindspore as ms
from mindspore import nn
from mindspore.nn.layer.normalization import _BatchNorm

from ats_ms.models.conv import Conv2d


def _folded_conv(conv, bn):
    scale = bn.gamma.asnumpy().astype(np.float64) / np.sqrt(bn.moving_variance.asnumpy().astype(np.float64) + bn.eps)
    weight = conv.weight.asnumpy().astype(np.float64) * scale.reshape(-1, 1, 1, 1)
    bias = bn.beta.asnumpy().astype(np.float64) - bn.moving_mean.asnumpy().astype(np.float64) * scale
    if conv.has_bias:
        bias = bias + conv.bias.asnumpy().astype(np.float64) * scale
    new = Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, pad_mode=conv.pad_mode,
                    padding=conv.padding, dilation=conv.dilation, group=conv.group, has_bias=True,
                    weight_init=ms.Tensor(weight.astype(np.float32)), bias_init=ms.Tensor(bias.astype(np.float32)))
    return new


def _is_pair(conv, bn):
    return isinstance(conv, nn.Conv2d) and isinstance(bn, _BatchNorm) and conv.out_channels == bn.num_features


def fold_batchnorm(net):
    """Fold in place; returns the number of BatchNorm layers removed."""
    folded = 0
    for _, cell in list(net.cells_and_names()):
        if isinstance(cell, nn.SequentialCell):
            children = list(cell.cell_list)
            for i in range(len(children) - 1):
                if _is_pair(children[i], children[i + 1]):
                    cell[i] = _folded_conv(children[i], children[i + 1])
                    cell[i + 1] = nn.Identity()
                    folded += 1
        for conv_name, bn_name in getattr(cell, "FOLD_PAIRS", ()):
            conv, bn = getattr(cell, conv_name), getattr(cell, bn_name)
            if _is_pair(conv, bn):
                setattr(cell, conv_name, _folded_conv(conv, bn))
                setattr(cell, bn_name, nn.Identity())
                folded += 1
    return folded
