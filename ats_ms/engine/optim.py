"""``create_optimizer``: SGD with momentum over the trained network's parameters only.

Weight decay is applied to *every* parameter, BatchNorm gamma/beta and biases included, as in the
PyTorch references (MindSpore's default would skip gamma/beta; a parameter group turns that off).
"""
import mindspore as ms
from mindspore import nn


def create_optimizer(cfg_optim, params, lr_per_step):
    params = list(params)
    group = [{"params": params, "weight_decay": cfg_optim.weight_decay}]
    return nn.Momentum(group, learning_rate=ms.Tensor(lr_per_step), momentum=cfg_optim.momentum,
                       use_nesterov=cfg_optim.nesterov)
