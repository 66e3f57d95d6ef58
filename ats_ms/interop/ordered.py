"""Map a PyTorch state dict onto a MindSpore network whose modules come in the same order but carry other
names (torchvision's ``downsample`` / ``fc`` / ``features.1.conv.0.0`` against mindcv's ``down_sample`` /
``classifier`` / ``features.3.layers.0``).

Both sides are read as a sequence of layers in registration order: a convolution or linear layer (weight,
optional bias) or a BatchNorm (scale, shift, running mean, running variance).  The two sequences must agree
layer by layer in kind and in every shape; the first disagreement is named.
"""
from collections import OrderedDict

import numpy as np

from ats_ms.common.errors import CheckpointError

TORCH_BN = ("weight", "bias", "running_mean", "running_var")
MS_BN = ("gamma", "beta", "moving_mean", "moving_variance")


def _layers(names_and_shapes, bn_leaves, skip=("num_batches_tracked",)):
    """[(module path, {leaf: shape})] in first-appearance order."""
    layers = OrderedDict()
    for name, shape in names_and_shapes:
        module, _, leaf = name.rpartition(".")
        if leaf in skip:
            continue
        layers.setdefault(module, OrderedDict())[leaf] = tuple(shape)
    out = []
    for module, leaves in layers.items():
        kind = "bn" if set(leaves) >= set(bn_leaves) else ("conv" if len(leaves.get("weight", ())) == 4 else "linear")
        out.append((module, kind, leaves))
    return out


def map_by_order(torch_state, ms_net, source):
    """{MindSpore parameter name: array} for every parameter of ``ms_net`` from ``torch_state`` (name -> array)."""
    theirs = _layers([(k, np.shape(v)) for k, v in torch_state.items()], TORCH_BN)
    ours = _layers([(name, p.shape) for name, p in ms_net.parameters_and_names()], MS_BN)
    if len(theirs) != len(ours):
        raise CheckpointError(f"'{source}' has {len(theirs)} layers with weights, the network {len(ours)}: it is another "
                              "architecture. Pass the --arch it was trained with.")
    mapped = {}
    for (t_mod, t_kind, t_leaves), (m_mod, m_kind, m_leaves) in zip(theirs, ours):
        pairs = list(zip(TORCH_BN, MS_BN)) if m_kind == "bn" else [(leaf, leaf) for leaf in m_leaves]
        shapes_agree = t_kind == m_kind and all(t_leaves.get(t) == m_leaves.get(m) for t, m in pairs)
        if not shapes_agree or (m_kind != "bn" and set(t_leaves) != set(m_leaves)):
            raise CheckpointError(f"'{source}': layer '{t_mod}' ({t_kind}, {dict(t_leaves)}) does not match the "
                                  f"network's '{m_mod}' ({m_kind}, {dict(m_leaves)}). Pass the --arch (and "
                                  "--num-classes) the checkpoint was trained with.")
        for t, m in pairs:
            mapped[f"{m_mod}.{m}"] = np.asarray(torch_state[f"{t_mod}.{t}"])
    return mapped
