"""Average the student's BatchNorm moving statistics across data-parallel ranks.

Gradients are all-reduced every step, so trainable weights stay identical on every rank, but each
rank's BatchNorm moving mean/variance follow only its own shard of the data.  Averaging them at
every epoch end (before evaluation and checkpointing) makes all ranks hold the same network, which
evaluates and checkpoints the same everywhere.  PyTorch's DDP instead copies rank 0's buffers.
"""
import mindspore as ms
from mindspore import nn, ops


class BatchNormStatsSync(nn.Cell):
    def __init__(self, net, group_size):
        super().__init__(auto_prefix=False)
        stats = [p for p in net.get_parameters() if p.name.endswith(("moving_mean", "moving_variance"))]
        self.stats = ms.ParameterTuple(stats)
        self.allreduce = ops.AllReduce()
        self.scale = 1.0 / group_size

    def construct(self):
        done = ()
        for param in self.stats:
            done = done + (ops.assign(param, self.allreduce(param) * self.scale),)
        return done
