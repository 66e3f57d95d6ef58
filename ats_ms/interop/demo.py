"""Checkpoints written by the MindSpore model-zoo ATS demo (``research/cv/ats``), read as ats_ms networks.

The demo saves ``save_checkpoint(model)``: parameter names already equal ats_ms's (``conv1.weight``,
``layer1.0.bn1.gamma``, ``block0.0.weight``, ``classifier.weight``), but two details differ:

- its VGG convolutions have **no bias** (MindSpore's ``nn.Conv2d`` default): built with ``conv_bias=False``
  ats_ms's VGG is exactly the demo's network (with biases, zero biases make it exact too);
- its ResNet convolutions use ``pad_mode="same"``: built with ``padding="same"`` ats_ms's ResNet is
  exactly the demo's network (``ats_ms.models.resnet_cifar``).

``ats_ms.models.variants`` resolves which variant a file gets.

ats_ms writes its run metadata (``arch``, ``num_classes``, ``padding``) into every checkpoint, so a MindSpore
checkpoint without it is taken to be the demo's.
"""
import numpy as np

OPTIMIZER_PREFIXES = ("moments.", "learning_rate", "global_step", "momentum", "scale_sense", "current_iterator_step")


def is_ats_checkpoint(meta):
    return "arch" in meta


def network_arrays(params):
    """name -> numpy array of the network entries (optimizer state and metadata dropped)."""
    out = {}
    for name, value in params.items():
        if "." not in name or name.startswith(OPTIMIZER_PREFIXES):
            continue
        out[name] = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
    return out


def fill_missing_biases(arrays, net):
    """Add zero biases for the convolutions the demo built without one (exact: bias 0 changes nothing).
    Returns the names filled."""
    filled = []
    for name, param in net.parameters_and_names():
        if name not in arrays and name.endswith(".bias") and name[:-len(".bias")] + ".weight" in arrays \
                and len(arrays[name[:-len(".bias")] + ".weight"].shape) == 4:
            arrays[name] = np.zeros(param.shape, np.float32)
            filled.append(name)
    return filled
