"""A convolution's stride, padding and groups, as MindSpore's ``nn.Conv2d`` states them and as the oneDNN
library takes them (an int64[8] tensor: stride h/w, pad top/bottom/left/right, groups, same)."""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    stride: tuple          # (h, w)
    padding: tuple         # (top, bottom, left, right); ignored when same
    groups: int = 1
    same: bool = False     # MindSpore / TensorFlow "same": output ceil(in / stride), extra pad at bottom/right

    def array(self):
        return np.array([*self.stride, *self.padding, self.groups, int(self.same)], np.int64)

    def pads(self, h, w, kh, kw):
        if not self.same:
            return self.padding
        oh, ow = -(-h // self.stride[0]), -(-w // self.stride[1])
        th = max((oh - 1) * self.stride[0] + kh - h, 0)
        tw = max((ow - 1) * self.stride[1] + kw - w, 0)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2

    def output_shape(self, x_shape, w_shape):
        n, _, h, w = x_shape
        kh, kw = w_shape[2], w_shape[3]
        top, bottom, left, right = self.pads(h, w, kh, kw)
        return [n, w_shape[0], (h + top + bottom - kh) // self.stride[0] + 1, (w + left + right - kw) // self.stride[1] + 1]


def of_conv(cell):
    """The Geometry of an ``nn.Conv2d``, or None when the library does not cover it (dilation)."""
    if tuple(cell.dilation[-2:]) != (1, 1):
        return None
    stride = tuple(int(s) for s in cell.stride[-2:])
    if cell.pad_mode == "same":
        return Geometry(stride, (0, 0, 0, 0), int(cell.group), True)
    if cell.pad_mode == "valid":
        return Geometry(stride, (0, 0, 0, 0), int(cell.group))
    padding = cell.padding
    padding = (padding,) * 4 if isinstance(padding, int) else tuple(int(p) for p in padding)
    return Geometry(stride, padding, int(cell.group))
