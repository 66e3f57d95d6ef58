"""Checkpoint files: atomic writes, weights by name relative to the network, clear mismatch errors.

MindSpore renames parameters when a network becomes a sub-cell (``student.conv1.weight`` inside the
distillation cell), so checkpoints are written and read with names taken from the network's own
``parameters_and_names()``: a student checkpoint loads straight into ``create_model(...)`` with
``load_param_into_net``.  Files are written to a temporary name in the same folder and moved into
place with ``os.replace``, so a crash never leaves a half-written checkpoint under the real name.
"""
import os

import mindspore as ms
import numpy as np

from ats_ms.errors import CheckpointError


def atomic_save(entries, path, meta=None):
    """``entries``: list of (name, Parameter/Tensor); ``meta``: small dict of scalars/strings."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    if not tmp.endswith(".ckpt"):
        tmp += ".ckpt"
    data = [{"name": name, "data": value} for name, value in entries]
    ms.save_checkpoint(data, tmp, append_dict=dict(meta or {}))
    os.replace(tmp, path)


def named_parameters(net):
    """(name, parameter) relative to ``net``.  AMP O2/O3 wraps each BatchNorm in a float32 cell, which
    inserts a ``_backbone`` level into the path; it is dropped so names match ``create_model``'s."""
    return [(name.replace("._backbone.", "."), param) for name, param in net.parameters_and_names()]


def network_entries(net, prefix=""):
    return [(prefix + name, param) for name, param in named_parameters(net)]


def weights_checksum(net, trainable_only=False):
    """SHA-256 over the parameters (names and bytes): equal on all ranks of a healthy data-parallel job."""
    import hashlib  # pylint: disable=import-outside-toplevel
    h = hashlib.sha256()
    for name, param in named_parameters(net):
        if trainable_only and not param.requires_grad:
            continue
        h.update(name.encode())
        h.update(np.ascontiguousarray(param.asnumpy()).tobytes())
    return h.hexdigest()[:16]


def save_weights(net, path, meta=None):
    atomic_save(network_entries(net), path, meta)


def read_checkpoint(path, what="checkpoint"):
    if not os.path.isfile(path):
        raise CheckpointError(f"The {what} '{path}' does not exist. Check the path (a run writes best.ckpt, "
                              "last.ckpt and train_state.ckpt into its run directory).")
    try:
        return ms.load_checkpoint(path)
    except Exception as exc:  # pylint: disable=broad-except  (MindSpore raises ValueError/RuntimeError)
        raise CheckpointError(f"The {what} '{path}' cannot be read as a MindSpore checkpoint "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
                              "It is truncated, corrupt or another file type.") from None


def load_weights(net, path, what="checkpoint", arch=None, params=None):
    """Load a checkpoint into ``net`` by relative names; every name and shape must match.

    A training-state file is accepted too (its ``student.`` entries are used).  ``params``: the
    file's contents when the caller has already read it (``read_checkpoint``).
    """
    if params is None:
        params = read_checkpoint(path, what)
    if any(k.startswith("student.") for k in params):
        params = {k[len("student."):] if k.startswith("student.") else k: v for k, v in params.items()
                  if k.startswith("student.") or _is_meta(k)}
    own = dict(named_parameters(net))
    missing = [k for k in own if k not in params]
    unexpected = [k for k in params if k not in own and not _is_meta(k)]
    wrong_shape = [(k, tuple(params[k].shape), tuple(p.shape)) for k, p in own.items()
                   if k in params and tuple(params[k].shape) != tuple(p.shape)]
    if missing or unexpected or wrong_shape:
        arch_note = f" for '{arch}'" if arch else ""
        details = []
        if wrong_shape:
            k, got, want = wrong_shape[0]
            details.append(f"{len(wrong_shape)} shape mismatches (e.g. '{k}': file {got}, network {want})")
        if missing:
            details.append(f"{len(missing)} network parameters missing from the file (e.g. '{missing[0]}')")
        if unexpected:
            details.append(f"{len(unexpected)} file entries the network does not have (e.g. '{unexpected[0]}')")
        saved_arch = params.get("arch")
        hint = f" The file says it was written for '{_scalar(saved_arch)}'." if saved_arch is not None else ""
        raise CheckpointError(f"The {what} '{path}' does not fit the network{arch_note}: {'; '.join(details)}."
                              f"{hint} Use the checkpoint of the same architecture and class count, or set the "
                              "matching arch in the config. PyTorch checkpoints must be converted first.")
    for name, param in own.items():
        param.set_data(ms.Tensor(params[name].asnumpy(), param.dtype))
    return {k: _scalar(v) for k, v in params.items() if _is_meta(k)}


def _scalar(value):
    if isinstance(value, (ms.Tensor, ms.Parameter)):
        arr = value.asnumpy()
        return arr.item() if arr.size == 1 else arr
    return value


def _is_meta(name):
    """Run information (arch, epoch, best accuracy, ...) is stored beside the weights under names
    without a dot; every parameter name has one."""
    return "." not in name


def read_meta(path):
    params = read_checkpoint(path, "training state")
    return {k: _scalar(v) for k, v in params.items() if _is_meta(k)}, params


def restore_state(train_step, params):
    """Copy a training state (student + optimizer entries) into ``train_step`` by name."""
    own = _state_params(train_step)
    wanted = {k: v for k, v in params.items() if k in own}
    needed = list(own)
    absent = [k for k in needed if k not in wanted]
    if absent:
        raise CheckpointError(f"The training state lacks {len(absent)} entries of this run (e.g. '{absent[0]}'): "
                              "it was written by a different configuration. Resume with the same config, or "
                              "start a new run.")
    for k in needed:
        if tuple(wanted[k].shape) != tuple(own[k].shape):
            raise CheckpointError(f"The training state's '{k}' has shape {tuple(wanted[k].shape)}, this run's "
                                  f"{tuple(own[k].shape)}: the config changed since it was written.")
        own[k].set_data(ms.Tensor(np.asarray(wanted[k].asnumpy()), own[k].dtype))


def _state_params(train_step):
    """Student weights and statistics plus optimizer moments and step, keyed by the parameters' own
    (unique) names; the frozen teacher and the learning-rate table (rebuilt from the config) are left
    out."""
    return {p.name: p for p in train_step.get_parameters()
            if not p.name.startswith("teacher.") and p.name != "learning_rate"}


def state_entries(train_step):
    return list(_state_params(train_step).items())
