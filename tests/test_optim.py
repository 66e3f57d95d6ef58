"""ats_ms.engine.optim: SGD with momentum and weight decay on every parameter, Nesterov by PyTorch's formula,
checked on a quadratic against the update rule written out here in numpy."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn, ops

from ats_ms.config.schema import OptimConfig
from ats_ms.engine.optim import create_optimizer


class Quadratic(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = ms.Parameter(ms.Tensor(np.ones(3, np.float32)), name="w")

    def construct(self, x):
        return ops.sum((self.w * x) ** 2)


def _reference(nesterov, steps, lrs, momentum, decay, x):
    """PyTorch's SGD: d = g + decay w; v = momentum v + d; w -= lr (d + momentum v if nesterov else v)."""
    w, v = np.ones(3), np.zeros(3)
    for lr in lrs[:steps]:
        d = 2 * w * x * x + decay * w
        v = momentum * v + d
        w = w - lr * (d + momentum * v if nesterov else v)
    return w


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov_follow_the_update_rule(nesterov):
    net = Quadratic()
    lrs = np.array([0.1, 0.05, 0.02, 0.01], np.float32)
    cfg = OptimConfig(momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    step = nn.TrainOneStepCell(net, create_optimizer(cfg, net.trainable_params(), lrs))
    x = np.array([1.0, 2.0, 3.0], np.float32)
    for _ in range(4):
        step(ms.Tensor(x))
    np.testing.assert_allclose(net.w.asnumpy(), _reference(nesterov, 4, lrs, 0.9, 0.01, x), rtol=1e-5, atol=1e-6)
