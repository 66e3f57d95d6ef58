"""An ats_ms network's parameters as a PyTorch state dict: the reverse of ``ats_ms.interop.pytorch``.

The CIFAR ResNet / WRN / VGG families of ats_ms keep the module names of the PyTorch references (RepDistiller,
mdistiller, the ATS authors' code; ``ats_ms.interop.torch_reference``), so only the BatchNorm leaves are renamed
(``gamma / beta / moving_mean / moving_variance`` -> ``weight / bias / running_mean / running_var``) and each
BatchNorm gets the ``num_batches_tracked`` counter PyTorch keeps (0: a count of updates ats_ms does not keep; it
matters only to a BatchNorm with ``momentum=None``).  Bottleneck networks' ``layers.N`` become ``layerN+1``.
The result is plain numpy, so writing it needs torch but computing it does not.
"""
import re
from collections import OrderedDict

import numpy as np

from ats_ms.common.errors import CheckpointError

TORCH_BN_LEAVES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
# networks with a PyTorch reference that reads this state dict (ats_ms.interop.torch_reference)
REFERENCE_FAMILIES = (r"resnet\d+(x4)?", r"wrn_\d+_\d+", r"vgg(8|11|13|16|19)")


def has_torch_reference(arch):
    return any(re.fullmatch(p, str(arch)) for p in REFERENCE_FAMILIES)


def check_exportable(arch, options):
    """Refuse a network whose PyTorch counterpart would compute something else: no reference family, or a
    model-zoo demo variant (TensorFlow-style 'same' padding, VGG without conv biases)."""
    if not has_torch_reference(arch):
        raise CheckpointError(f"'{arch}' has no PyTorch reference network in ats_ms (the CIFAR resnet<6n+2>, "
                              "resnet8x4 / resnet32x4, wrn_<d>_<w> and vgg families do), so a PyTorch state dict of it "
                              "could not be checked. Export it as MINDIR or ONNX instead.")
    if options.get("padding") == "same":
        raise CheckpointError(f"This '{arch}' uses the model-zoo demo's 'same' padding (asymmetric on stride-2 "
                              "convolutions), which PyTorch's Conv2d cannot express; its PyTorch state dict would "
                              "compute other logits. Export it as MINDIR or ONNX instead.")
    if options.get("conv_bias") is False:
        raise CheckpointError(f"This '{arch}' has no convolution biases (the model-zoo demo's VGG), unlike the PyTorch "
                              "reference VGG. Export it as MINDIR or ONNX instead.")


def torch_names(names):
    """``{ats_ms name: PyTorch name}`` for the parameters ``names`` of one network."""
    names = set(names)
    out = {}
    for name in names:
        module, _, leaf = name.rpartition(".")
        if leaf in TORCH_BN_LEAVES and f"{module}.gamma" in names:
            leaf = TORCH_BN_LEAVES[leaf]
        torch_module = re.sub(r"(^|\.)layers\.(\d+)", lambda m: f"{m[1]}layer{int(m[2]) + 1}", module)
        out[name] = f"{torch_module}.{leaf}" if torch_module else leaf
    return out


def torch_state_dict(named_arrays):
    """``{ats_ms name: array}`` of a network -> an ordered ``{PyTorch name: array}``."""
    renamed = torch_names(named_arrays)
    out = OrderedDict()
    for name, value in named_arrays.items():
        out[renamed[name]] = np.asarray(value, np.float32)
        if renamed[name].endswith(".running_var"):
            out[renamed[name][: -len("running_var")] + "num_batches_tracked"] = np.zeros((), np.int64)
    return out
