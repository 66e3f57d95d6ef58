"""Reading published checkpoints (PyTorch files, the model-zoo demo's MindSpore files) into ats_ms networks and
writing them as ats_ms checkpoints; ``python -m ats_ms.convert`` is the command over this module.  Families
ats_ms recognises by themselves are in ``ats_ms.interop.published``; the name mapping is
``ats_ms.interop.pytorch``."""
import os
import re

from ats_ms.common.errors import AtsError, CheckpointError
from ats_ms.common.model_names import CLASSIFIER_WEIGHTS
from ats_ms.common.optional import require

PYTORCH_SUFFIXES = (".th", ".pth", ".pt", ".tar")


def read_torch_file(path):
    """(name -> numpy array, keys of the top-level object)."""
    torch = require("torch", "Reading PyTorch checkpoints (the CPU build is enough)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"PyTorch checkpoint '{path}' does not exist.") from None
    except IsADirectoryError:
        raise CheckpointError(f"'{path}' is a folder, not a checkpoint file.") from None
    except Exception as exc:  # pylint: disable=broad-except
        asked = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if "Weights only load failed" in str(exc):
            what = f"it names {asked.group(1)}" if asked else "it names objects that are not tensors"
            raise CheckpointError(f"'{path}' asks to run code when it is loaded ({what}, which a file of weights does "
                                  "not need); ats_ms will not load it. If the file comes from a source you trust (some "
                                  "training scripts pickle their own objects beside the weights), save its state_dict "
                                  "alone from PyTorch and convert that file.") from None
        raise CheckpointError(f"'{path}' cannot be read as a PyTorch checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}).") from None
    from ats_ms.interop.pytorch import unwrap  # pylint: disable=import-outside-toplevel
    keys = sorted(obj) if isinstance(obj, dict) else []
    return {k: v.detach().cpu().numpy() for k, v in unwrap(obj).items()}, keys


def read_mindspore_file(path):
    """A MindSpore checkpoint (the model-zoo demo's) as (name -> numpy array of network entries, metadata)."""
    from ats_ms.engine.checkpoint import read_meta  # pylint: disable=import-outside-toplevel
    from ats_ms.interop.demo import network_arrays  # pylint: disable=import-outside-toplevel
    meta, params = read_meta(path, "checkpoint to convert")
    return network_arrays(params), meta


def infer_num_classes(state):
    for name, value in state.items():
        if name.endswith(CLASSIFIER_WEIGHTS) and value.ndim == 2:
            return int(value.shape[0])
    raise CheckpointError("Cannot find the classifier in the checkpoint to read the class count; pass --num-classes.")


def _without_prefix(names):
    for prefix in ("module.", "model."):
        if names and all(n.startswith(prefix) for n in names):
            return [n[len(prefix):] for n in names]
    return list(names)


def convert(arch, input_path, output_path, num_classes=None, padding="auto", conv_bias=None, mean_std=None):
    """Returns (network, arch, classes, unused entries, notes).  ``arch`` None or "auto": the recognised
    family's.  ``padding`` / ``conv_bias``: the variant to build ("auto" / None: what a MindSpore file records,
    the demo's for a demo file, the references' otherwise).  ``mean_std``: the training normalisation to record
    (default: the recognised family's, or what a MindSpore file records)."""
    from ats_ms.engine.checkpoint import save_weights  # pylint: disable=import-outside-toplevel
    from ats_ms.interop import demo, published  # pylint: disable=import-outside-toplevel
    from ats_ms.interop.pytorch import load_into  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import build_as_trained  # pylint: disable=import-outside-toplevel
    from ats_ms.models import normalization, variants  # pylint: disable=import-outside-toplevel
    if os.path.abspath(input_path) == os.path.abspath(output_path):
        raise AtsError(f"The output is the same file as the input ('{input_path}'); converting in place would destroy "
                       "the original. Choose another output file (--output).")
    if num_classes is not None and num_classes < 1:
        raise AtsError(f"The class count (--num-classes) must be at least 1, got {num_classes}.")
    notes, extra_meta = [], {}
    from_mindspore = input_path.endswith(".ckpt")
    known = None
    if from_mindspore:
        state, meta = read_mindspore_file(input_path)
    else:
        (state, container), meta = read_torch_file(input_path), {}
        known = published.identify(input_path, container, _without_prefix(list(state)))
    if arch in (None, "auto"):
        if known is None:
            raise AtsError(f"'{input_path}' is not a checkpoint family ats_ms recognises by itself; name the ats_ms network "
                           "it holds (--arch, e.g. resnet110, wrn_40_2, vgg13).")
        arch = known["arch"]
    if known is not None:
        notes.append(f"recognised: {known['source']} ({known['arch']})")
        notes += known["notes"]
        extra_meta["source"] = known["source"]
        if known["arch"] != arch:
            notes.append(f"{arch} was asked for; the file looks like {known['arch']}")
    trained = mean_std or normalization.recorded(meta) or (
        (known["mean"], known["std"]) if known is not None and known["arch"] == arch else None)
    if trained is not None:
        extra_meta[normalization.META_KEY] = normalization.encode(*trained)
        notes.append(f"trained on inputs normalised with mean {tuple(trained[0])} std {tuple(trained[1])}: recorded, "
                     "so eval, analyze and distillation feed it that way (teacher.mean / teacher.std or data.mean / "
                     "data.std override)")
    explicit = {k: v for k, v in (("padding", padding), ("conv_bias", conv_bias)) if v not in (None, "auto")}
    if known is not None and known["arch"] == arch:
        explicit = {**known["options"], **explicit}
    classes = num_classes or infer_num_classes(state)
    try:
        from_demo = from_mindspore and not demo.is_ats_checkpoint(meta)
        net, options = build_as_trained(arch, classes, meta, explicit, from_demo, in_channels=3)
    except ValueError as exc:
        raise AtsError(f"{exc} Name the network the checkpoint was trained with (--arch).") from None
    if from_mindspore:
        filled = demo.fill_missing_biases(state, net)
        if filled:
            notes.append(f"{len(filled)} convolutions had no bias but conv_bias is true: zero biases added, which is "
                         "exact")
    changed = variants.summary(options, only_changes=True)
    if changed:
        notes.append(f"built as the model-zoo demo's variant ({changed}), recorded in the checkpoint: eval, "
                     "distillation, analysis and export rebuild it that way")
    unused = load_into(net, state, arch, input_path)
    save_weights(net, output_path, {"arch": arch, "num_classes": classes, **options, "converted_from": input_path,
                                    **extra_meta})
    return net, arch, classes, unused, notes


def convert_folder(input_dir, output_dir, **kwargs):
    """Every PyTorch checkpoint in ``input_dir`` of a recognised family -> ``output_dir/<arch>.ckpt``.
    Returns [(input, output or None, message)]."""
    if not os.path.isdir(output_dir):
        raise AtsError(f"The output '{output_dir}' (--output) must be an existing folder when the input is a folder.")
    results = []
    for name in sorted(os.listdir(input_dir)):
        path = os.path.join(input_dir, name)
        if not name.endswith(PYTORCH_SUFFIXES) or not os.path.isfile(path):
            continue
        arch_given = kwargs.get("arch")
        try:
            target = os.path.join(output_dir, os.path.splitext(name)[0] + ".ckpt")
            _, arch, classes, _, notes = convert(arch_given, path, target, **{k: v for k, v in kwargs.items()
                                                                             if k != "arch"})
            final = os.path.join(output_dir, f"{arch}.ckpt")  # named after the network when that name is free
            if not os.path.exists(final):
                os.replace(target, final)
                target = final
            results.append((path, target, f"{arch}, {classes} classes" + "".join(f"; {n}" for n in notes)))
        except AtsError as exc:
            results.append((path, None, str(exc)))
    return results


