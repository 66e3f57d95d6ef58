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

from ats_ms.engine.run_dir import guarded_write, write_atomic
from ats_ms.common.model_names import CLASSIFIER_PARAMETERS
from ats_ms.common.errors import CheckpointError


def atomic_save(entries, path, meta=None, kept="the previous version of the file is unchanged"):
    """``entries``: list of (name, Parameter/Tensor); ``meta``: small dict of scalars/strings."""
    with guarded_write(path, kept):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = [{"name": name, "data": value} for name, value in entries]
    write_atomic(path, lambda tmp: ms.save_checkpoint(data, tmp, append_dict=dict(meta or {})), kept)


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
    if os.path.isdir(path):
        runs = [f for f in ("best.ckpt", "last.ckpt") if os.path.isfile(os.path.join(path, f))]
        if runs:
            raise CheckpointError(f"The {what} '{path}' is a run folder, not a checkpoint file. Use its "
                                  f"{' or '.join(os.path.join(path, f) for f in runs)}.")
        raise CheckpointError(f"The {what} '{path}' is a folder, not a checkpoint file. Give the .ckpt file itself.")
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


def load_initial_weights(net, path, arch):
    """``model.checkpoint``: load every parameter; when only the classifier differs (another class count, e.g.
    ImageNet weights for a 200-class fine-grained task), load the rest and leave the classifier as initialised.
    Returns the notes to log."""
    params = read_checkpoint(path, "initial weights (model.checkpoint)")
    own = dict(named_parameters(net))
    clash = [k for k, p in own.items() if k in params and tuple(params[k].shape) != tuple(p.shape)]
    if clash and all(k.endswith(CLASSIFIER_PARAMETERS) for k in clash):
        kept = {k: v for k, v in params.items() if k not in clash}
        shape = tuple(params[clash[0]].shape)
        for k in clash:
            kept[k] = own[k].data  # the freshly initialised classifier
        load_weights(net, path, "initial weights (model.checkpoint)", arch, params=kept)
        return [f"model.checkpoint {path}: its classifier ({', '.join(clash)}; {shape[0]} classes) does not fit this "
                f"run's {own[clash[0]].shape[0]} classes, so it is left out and re-initialised; every other weight "
                "is loaded"]
    load_weights(net, path, "initial weights (model.checkpoint)", arch, params=params)
    return []


def _scalar(value):
    if isinstance(value, (ms.Tensor, ms.Parameter)):
        arr = value.asnumpy()
        return arr.item() if arr.size == 1 else arr
    return value


def _is_meta(name):
    """Run information (arch, epoch, best accuracy, ...) is stored beside the weights under names
    without a dot; every parameter name has one."""
    return "." not in name


def read_meta(path, what="training state"):
    params = read_checkpoint(path, what)
    return {k: _scalar(v) for k, v in params.items() if _is_meta(k)}, params


LOSS_SCALE_ENTRIES = ("loss_scale", "loss_scale_clean_steps")


def state_entries(train_step, student, loss=None):
    """The training state of one student, under the names a single-student run has always used:
    ``student.<param>``, ``moments.student.<param>``, ``global_step`` and, under AMP, the loss scale; and, for a
    method that learns something of its own (CTKD's temperature), its loss cell's trainable parameters as
    ``loss.<param>`` and ``moments.loss.<param>``.  The names do not depend on where the student sits in a
    multi-student network, so a state written by a shared-teacher group resumes as a plain run and the other way
    round."""
    optimizer = train_step.optimizer
    index = {id(p): i for i, p in enumerate(optimizer.parameters)}
    owned = [("student.", named_parameters(student))]
    if loss is not None:
        owned.append(("loss.", [(n, p) for n, p in named_parameters(loss) if p.requires_grad]))
    entries = []
    for prefix, params in owned:
        entries += [(prefix + name, param) for name, param in params]
        entries += [("moments." + prefix + name, optimizer.moments[index[id(param)]]) for name, param in params
                    if id(param) in index]
    entries.append(("global_step", optimizer.global_step))
    for name in LOSS_SCALE_ENTRIES:
        for param in train_step.get_parameters():
            if param.name == name:
                entries.append((name, param))
    return entries


def restore_state(train_step, student, params, path="the training state", loss=None):
    """Copy one student's saved state (see ``state_entries``) into ``train_step``.  A loss scale absent from
    the file (a state written without AMP) keeps its initial value."""
    own = dict(state_entries(train_step, student, loss))
    absent = [k for k in own if k not in params and k not in LOSS_SCALE_ENTRIES]
    if absent:
        raise CheckpointError(f"'{path}' lacks {len(absent)} entries of this run (e.g. '{absent[0]}'): it was written "
                              "for another network. Resume with the config it was trained with, or start a new run.")
    for k, param in own.items():
        if k not in params:
            continue
        if tuple(params[k].shape) != tuple(param.shape):
            raise CheckpointError(f"'{path}' holds '{k}' with shape {tuple(params[k].shape)}, this run's network "
                                  f"{tuple(param.shape)}: it was written for another architecture or class count.")
        param.set_data(ms.Tensor(np.asarray(params[k].asnumpy()), param.dtype))
