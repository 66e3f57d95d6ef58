"""``python -m ats_ms.convert``: turn a published checkpoint into an ats_ms checkpoint.

    python -m ats_ms.convert --input resnet56-4bfd9763.th --output resnet56_a.ckpt           # recognised: arch auto
    python -m ats_ms.convert --input pretrained/ --output teachers/                          # every recognised file
    python -m ats_ms.convert --arch resnet110 --input resnet110_vanilla/ckpt_epoch_240.pth --output resnet110.ckpt
    python -m ats_ms.convert --arch vgg8 --input ckpts/cifar100-VGG8.ckpt --output vgg8.ckpt   # model-zoo demo

Reads PyTorch checkpoints (needs ``torch`` for this command only: ``pip install torch``): the CIFAR teachers
of RepDistiller / mdistiller and of the ATS authors' code, and the families ``ats_ms.interop.published``
recognises by themselves (the original CIFAR-10 ResNets with option-A shortcuts: their ``module.`` prefix and
``state_dict`` / ``best_prec1`` wrapper, the depth read from the blocks).  Also MindSpore checkpoints written
by the model-zoo ATS demo (``.ckpt``; see ``ats_ms.interop.demo``: optimizer entries are dropped and the
demo's network variant is recorded).

The class count is read from the classifier unless ``--num-classes`` is given.  The normalisation a network
was trained with is recorded beside its weights (known for recognised families; ``--mean``/``--std`` for any
other), so eval, analyze and distillation feed it accordingly.  The result loads with ``create_model`` +
``load_param_into_net`` and can be used directly as ``teacher.checkpoint``.
"""
import argparse
import os
import re
import sys

from ats_ms.cli import run_cli
from ats_ms.errors import AtsError, CheckpointError
from ats_ms.model_names import CLASSIFIER_WEIGHTS
from ats_ms.optional import require

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
    from ats_ms.models import build_options, create_model, normalization, variants  # pylint: disable=import-outside-toplevel
    if os.path.abspath(input_path) == os.path.abspath(output_path):
        raise AtsError(f"--output is the same file as --input ('{input_path}'); converting in place would destroy the "
                       "original. Choose another --output.")
    if num_classes is not None and num_classes < 1:
        raise AtsError(f"--num-classes must be at least 1, got {num_classes}.")
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
            raise AtsError(f"'{input_path}' is not a checkpoint family ats_ms recognises by itself; pass --arch (the "
                           "ats_ms network it holds, e.g. resnet110, wrn_40_2, vgg13).")
        arch = known["arch"]
    if known is not None:
        notes.append(f"recognised: {known['source']} ({known['arch']})")
        notes += known["notes"]
        extra_meta["source"] = known["source"]
        if known["arch"] != arch:
            notes.append(f"--arch {arch} was given; the file looks like {known['arch']}")
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
        options = variants.resolve(build_options(arch), explicit, meta, from_demo)
        net = create_model(arch, classes, **options)
    except ValueError as exc:
        raise AtsError(f"{exc} Pass the --arch the checkpoint was trained with.") from None
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
        raise AtsError(f"--output '{output_dir}' must be an existing folder when --input is a folder.")
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="auto", help="ats_ms model name, e.g. resnet32x4, wrn_40_2, vgg13; auto "
                                                       "(default): the recognised family's")
    parser.add_argument("--input", required=True, help="PyTorch .th/.pth/.pt file, a demo .ckpt, or a folder of them")
    parser.add_argument("--output", required=True, help="MindSpore .ckpt to write (a folder when --input is one)")
    parser.add_argument("--num-classes", type=int, help="default: read from the classifier weight")
    parser.add_argument("--padding", choices=("auto", "symmetric", "same"), default="auto",
                        help="ResNet padding; auto: the demo's 'same' for MindSpore checkpoints without ats_ms "
                             "metadata, else what the file records (PyTorch files: symmetric)")
    parser.add_argument("--conv-bias", choices=("auto", "true", "false"), default="auto",
                        help="VGG convolution biases; auto: none for the demo's checkpoints, else what the file "
                             "records (PyTorch files: with bias)")
    parser.add_argument("--mean", help="R,G,B mean of the training normalisation to record (with --std)")
    parser.add_argument("--std", help="R,G,B std of the training normalisation to record (with --mean)")
    args = parser.parse_args(argv)
    from ats_ms.config.arch_names import check_arch  # pylint: disable=import-outside-toplevel
    if args.arch != "auto":
        check_arch(args.arch, "--arch")
    kwargs = dict(num_classes=args.num_classes, padding=args.padding,
                  conv_bias={"auto": None, "true": True, "false": False}[args.conv_bias],
                  mean_std=_mean_std(args.mean, args.std))
    if os.path.isdir(args.input):
        results = convert_folder(args.input, args.output, arch=args.arch, **kwargs)
        if not results:
            raise AtsError(f"'{args.input}' holds no PyTorch checkpoint ({', '.join(PYTORCH_SUFFIXES)}).")
        for source, target, message in results:
            print(f"{'converted' if target else 'skipped'} {source}" + (f" -> {target}" if target else "")
                  + f": {message}")
        return 0 if all(target for _, target, _ in results) else 1
    _, arch, classes, unused, notes = convert(args.arch, args.input, args.output, **kwargs)
    print(f"converted {args.input} -> {args.output} ({arch}, {classes} classes)"
          + (f"; ignored {len(unused)} entries: {', '.join(unused[:5])}" if unused else ""))
    for note in notes:
        print(f"note: {note}")
    return 0


def _mean_std(mean, std):
    if (mean is None) != (std is None):
        raise AtsError("--mean and --std go together: give both (R,G,B each) or neither.")
    if mean is None:
        return None
    try:
        values = [tuple(float(v) for v in text.split(",")) for text in (mean, std)]
    except ValueError:
        raise AtsError(f"--mean / --std must be three comma-separated numbers, got '{mean}' / '{std}'.") from None
    if any(len(v) != 3 for v in values) or min(values[1]) <= 0:
        raise AtsError(f"--mean / --std must be three numbers each (std > 0), got '{mean}' / '{std}'.")
    return values[0], values[1]


if __name__ == "__main__":
    sys.exit(run_cli(main))
