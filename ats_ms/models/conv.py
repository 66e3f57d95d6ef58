"""The convolution layer of every ats_ms network: ``nn.Conv2d``, running ats_ms's oneDNN convolution on CPU
when ``runtime.cpu_conv`` chose it (``ats_ms.cpu_conv``).

A subclass with the same parameters (``weight``, ``bias``) and the same arithmetic, so a checkpoint
trained with either convolution loads with either, and converted or demo weights keep their names.
Float16 inputs (AMP) and dilated convolutions take MindSpore's convolution.
"""
import mindspore as ms
from mindspore import nn

from ats_ms import cpu_conv


class Conv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fast = cpu_conv.layer_op(self)
        self.uses_onednn = fast is not None
        if self.uses_onednn:
            self.onednn_conv, self.onednn_geometry = fast

    def construct(self, x):
        if self.uses_onednn and x.dtype == ms.float32:
            output = self.onednn_conv(x, self.weight, self.onednn_geometry)
            if self.has_bias:
                output = self.bias_add(output, self.bias)
            return output
        return super().construct(x)
