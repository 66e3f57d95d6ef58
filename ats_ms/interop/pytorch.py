"""Map a PyTorch state dict of a CIFAR network onto an ats_ms network.

The published teachers of RepDistiller / mdistiller and the ATS authors' code use the same module
names as ats_ms (see the README's parameter-name table), so the mapping is mechanical:

- unwrap ``{"model": ...}`` / ``{"state_dict": ...}`` / ``{"net": ...}`` containers and strip the
  ``module.`` prefix that DataParallel adds;
- BatchNorm ``weight / bias / running_mean / running_var`` -> ``gamma / beta / moving_mean /
  moving_variance`` (recognised from the target network), ``num_batches_tracked`` dropped;
- bottleneck networks (ResNet50, ResNeXt) name their stages ``layer1..4``; ats_ms uses ``layers.0..3``.

Every target parameter must be supplied with the right shape; anything left over is reported.
"""
import re

import numpy as np

from ats_ms.common.errors import CheckpointError

CONTAINER_KEYS = ("state_dict", "model", "net", "model_state_dict", "params")
BN_LEAVES = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
DROPPED_LEAVES = ("num_batches_tracked",)


def unwrap(obj):
    """Find the flat name -> tensor mapping inside a loaded checkpoint object."""
    while isinstance(obj, dict):
        nested = [k for k in CONTAINER_KEYS if isinstance(obj.get(k), dict)]
        if not nested or any(hasattr(v, "shape") for v in obj.values()):
            break
        obj = obj[nested[0]]
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError("The PyTorch file holds no state dict (expected a mapping of parameter names to "
                              "tensors, possibly under 'state_dict', 'model' or 'net').")
    return {k: v for k, v in obj.items() if hasattr(v, "shape")}


def _strip_common_prefix(names, prefix):
    return all(n.startswith(prefix) for n in names)


def map_state_dict(source, target_names):
    """Return ({ats_ms name: array}, unused source names) for the parameters ``target_names``."""
    arrays = {k: np.asarray(v) for k, v in source.items()}
    for prefix in ("module.", "model.", "student."):
        if _strip_common_prefix(arrays, prefix):
            arrays = {k[len(prefix):]: v for k, v in arrays.items()}
    targets = set(target_names)
    uses_stage_list = any(n.startswith("layers.") for n in targets)
    mapped, unused = {}, []
    for name, value in arrays.items():
        module, _, leaf = name.rpartition(".")
        if leaf in DROPPED_LEAVES:
            continue
        if uses_stage_list:
            module = re.sub(r"^layer(\d+)", lambda m: f"layers.{int(m[1]) - 1}", module)
        if f"{module}.gamma" in targets and leaf in BN_LEAVES:
            leaf = BN_LEAVES[leaf]
        new = f"{module}.{leaf}" if module else leaf
        if new in targets:
            mapped[new] = value
        else:
            unused.append(name)
    return mapped, unused


def load_into(net, source, arch, path):
    """Copy a PyTorch state dict into ``net``; raise ``CheckpointError`` on any mismatch.  mindcv networks name
    their modules differently from torchvision's: they are matched layer by layer (``ats_ms.interop.ordered``)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    own = dict(net.parameters_and_names())
    if str(arch).startswith("mindcv:"):
        from ats_ms.interop.ordered import map_by_order  # pylint: disable=import-outside-toplevel
        stripped = {k[len("module."):] if k.startswith("module.") else k: v for k, v in source.items()}
        mapped = map_by_order(stripped, net, path)
        for name, param in own.items():
            param.set_data(ms.Tensor(mapped[name].astype(np.float32), param.dtype))
        return []
    mapped, unused = map_state_dict(source, own)
    missing = [k for k in own if k not in mapped]
    wrong = [(k, tuple(mapped[k].shape), tuple(p.shape)) for k, p in own.items()
             if k in mapped and tuple(mapped[k].shape) != tuple(p.shape)]
    if missing or wrong:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} shape mismatches (e.g. '{wrong[0][0]}': file {wrong[0][1]}, network {wrong[0][2]})")
        if missing:
            parts.append(f"{len(missing)} parameters of '{arch}' not found in the file (e.g. '{missing[0]}')")
        if unused:
            parts.append(f"{len(unused)} file entries unused (e.g. '{unused[0]}')")
        raise CheckpointError(f"'{path}' does not hold a '{arch}' network: {'; '.join(parts)}. Pass the --arch "
                              "(and --num-classes) the checkpoint was trained with.")
    for name, param in own.items():
        param.set_data(ms.Tensor(mapped[name].astype(np.float32), param.dtype))
    return unused
