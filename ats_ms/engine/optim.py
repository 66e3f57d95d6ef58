"""``create_optimizer``: SGD with momentum over the trained network's parameters only.

Weight decay is applied to *every* parameter, BatchNorm gamma/beta and biases included, as in the
PyTorch references (MindSpore's default would skip gamma/beta; a parameter group turns that off).

Nesterov momentum is ats_ms's own update: MindSpore 2.10's ``nn.Momentum(use_nesterov=True)`` trains exactly as
without it on CPU (its ``ApplyMomentum`` kernel ignores the flag there; found by the PyTorch twin of a run and
checked on a quadratic in ``tests/test_optim.py``).  ``NesterovMomentum`` applies PyTorch's formula on every
device: v <- momentum v + g;  p <- p - lr (g + momentum v).
"""
import mindspore as ms
from mindspore import nn, ops

_nesterov_update = ops.MultitypeFuncGraph("nesterov_update")


@_nesterov_update.register("Tensor", "Tensor", "Tensor", "Tensor", "Tensor")
def _nesterov_step(momentum, learning_rate, gradient, weight, moment):
    velocity = moment * momentum + gradient
    velocity = ops.depend(velocity, ops.assign(moment, velocity))
    return ops.depend(True, ops.assign(weight, weight - learning_rate * (gradient + momentum * velocity)))


class NesterovMomentum(nn.Momentum):
    """``nn.Momentum`` with the Nesterov update done by ats_ms (same parameters, moments and global step, so
    checkpoints and resumes are those of ``nn.Momentum``)."""

    def __init__(self, params, learning_rate, momentum, weight_decay=0.0):
        super().__init__(params, learning_rate, momentum, weight_decay, use_nesterov=False)
        if self.is_group_lr:
            raise ValueError("NesterovMomentum takes one learning rate for every parameter group")

    def construct(self, gradients):
        gradients = self.decay_weight(gradients)
        gradients = self.gradients_centralization(gradients)
        gradients = self.scale_grad(gradients)
        lr = self.get_lr()
        self.assignadd(self.global_step, self.global_step_increase_tensor)
        return self.hyper_map_reverse(ops.partial(_nesterov_update, self.momentum, lr), gradients, self.params,
                                      self.moments)


def create_optimizer(cfg_optim, params, lr_per_step):
    params = list(params)
    group = [{"params": params, "weight_decay": cfg_optim.weight_decay}]
    if cfg_optim.nesterov:
        return NesterovMomentum(group, learning_rate=ms.Tensor(lr_per_step), momentum=cfg_optim.momentum)
    return nn.Momentum(group, learning_rate=ms.Tensor(lr_per_step), momentum=cfg_optim.momentum)
