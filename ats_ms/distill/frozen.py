"""A teacher that stays frozen whatever its parent cell does.

``Model.train`` calls ``set_train(True)`` on the whole training network, and ``set_train`` sets the
``training`` flag on every sub-cell directly (``add_flags_recursive``), so overriding ``set_train`` on a
wrapper cannot protect the teacher.  Instead every BatchNorm inside the teacher is pinned with
``use_batch_statistics=False``: it then always normalises with its moving statistics and never updates
them, in training and evaluation alike.  Parameters are marked ``requires_grad=False`` (they never
reach an optimizer built from ``trainable_params()``) and the logits leave under ``stop_gradient``, so
no gradient graph is built through the teacher.
"""
from mindspore import nn, ops
from mindspore.nn.layer.normalization import _BatchNorm

from ats_ms.distill.fold_bn import fold_batchnorm
from ats_ms.models import count_params


def _drop_dropout(net):
    """Replace every Dropout inside ``net`` by an identity, which is what Dropout computes in inference.  A
    flag would not do: ``Model.train`` sets ``training`` on every sub-cell, the teacher's Dropouts included
    (mindcv's MobileNet-V2 classifier has one)."""
    removed = 0
    for _, cell in list(net.cells_and_names()):
        for child_name, child in list(cell.name_cells().items()):
            if isinstance(child, nn.Dropout):
                if isinstance(cell, nn.SequentialCell):
                    cell[int(child_name)] = nn.Identity()
                else:
                    setattr(cell, child_name, nn.Identity())
                removed += 1
    return removed


def freeze(net):
    """Pin ``net`` in inference mode in place and return it."""
    _drop_dropout(net)
    for _, cell in net.cells_and_names():
        if isinstance(cell, _BatchNorm):
            cell.use_batch_statistics = False
    for param in net.get_parameters():
        param.requires_grad = False
    net.set_train(False)
    return net


class FrozenTeacher(nn.Cell):
    """Wraps a trained network; ``construct`` returns its logits with no gradient path.

    ``fold_bn`` (default) folds every BatchNorm that directly follows a convolution into it
    (``ats_ms.distill.fold_bn``): the same function in fewer operations.  The wrapped network is
    modified in place, so load the teacher's weights before wrapping it.  ``num_params`` keeps the
    architecture's trainable parameter count from before folding (the number users compare with papers);
    the folded network has fewer (each BatchNorm's scale and shift become one conv bias).
    """

    def __init__(self, net, fold_bn=True):
        super().__init__()
        self.num_params = count_params(net)
        self.folded = fold_batchnorm(net) if fold_bn else 0
        self.net = freeze(net)

    def construct(self, x):
        return ops.stop_gradient(self.net(x))
