"""``python -m ats_ms.convert``: turn a PyTorch checkpoint of a CIFAR network into an ats_ms checkpoint.

    python -m ats_ms.convert --arch resnet110 --input resnet110_vanilla/ckpt_epoch_240.pth --output resnet110.ckpt
    python -m ats_ms.convert --arch vgg8 --input ckpts/cifar100-VGG8.ckpt --output vgg8.ckpt   # model-zoo demo

Reads checkpoints of RepDistiller / mdistiller (their published teachers) and of the ATS authors'
code (needs ``torch`` for this command only: ``pip install torch``), and MindSpore checkpoints written
by the model-zoo ATS demo (``.ckpt``; see ``ats_ms.interop.demo``: optimizer entries are dropped, the
demo's bias-free VGG convolutions get exact zero biases, and its ResNets are recorded with the demo's
``same`` padding so that eval, distillation, analysis and export rebuild exactly the demo's network).
The class count is read from the classifier unless ``--num-classes`` is given.  The result loads with
``create_model`` + ``load_param_into_net`` and can be used directly as ``teacher.checkpoint``.
"""
import argparse
import sys

from ats_ms.cli import run_cli
from ats_ms.errors import AtsError, CheckpointError

CLASSIFIER_SUFFIXES = ("fc.weight", "classifier.weight", "classifier.0.weight", "linear.weight")


def read_torch_file(path):
    try:
        import torch  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise AtsError("Reading PyTorch checkpoints needs torch, which is not installed. Install it for this "
                       "command only: pip install torch (the CPU build is enough).") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"PyTorch checkpoint '{path}' does not exist.") from None
    except Exception as exc:  # pylint: disable=broad-except
        raise CheckpointError(f"'{path}' cannot be read as a PyTorch checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}).") from None
    from ats_ms.interop.pytorch import unwrap  # pylint: disable=import-outside-toplevel
    return {k: v.detach().cpu().numpy() for k, v in unwrap(obj).items()}


def read_mindspore_file(path):
    """A MindSpore checkpoint (the model-zoo demo's) as (name -> numpy array of network entries, metadata)."""
    from ats_ms.engine.checkpoint import read_meta  # pylint: disable=import-outside-toplevel
    from ats_ms.interop.demo import network_arrays  # pylint: disable=import-outside-toplevel
    meta, params = read_meta(path, "checkpoint to convert")
    return network_arrays(params), meta


def infer_num_classes(state):
    for name, value in state.items():
        if name.endswith(CLASSIFIER_SUFFIXES) and value.ndim == 2:
            return int(value.shape[0])
    raise CheckpointError("Cannot find the classifier in the checkpoint to read the class count; pass --num-classes.")


def convert(arch, input_path, output_path, num_classes=None, padding="auto", conv_bias=None):
    """Returns (network, classes, unused entries, notes).  ``padding`` / ``conv_bias``: the variant to build
    ("auto" / None: what a MindSpore file records, the demo's for a demo file, the references' otherwise)."""
    import os  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.checkpoint import save_weights  # pylint: disable=import-outside-toplevel
    from ats_ms.interop import demo  # pylint: disable=import-outside-toplevel
    from ats_ms.interop.pytorch import load_into  # pylint: disable=import-outside-toplevel
    from ats_ms.models import build_options, create_model, variants  # pylint: disable=import-outside-toplevel
    if os.path.abspath(input_path) == os.path.abspath(output_path):
        raise AtsError(f"--output is the same file as --input ('{input_path}'); converting in place would destroy the "
                       "original. Choose another --output.")
    if num_classes is not None and num_classes < 1:
        raise AtsError(f"--num-classes must be at least 1, got {num_classes}.")
    notes = []
    from_mindspore = input_path.endswith(".ckpt")
    if from_mindspore:
        state, meta = read_mindspore_file(input_path)
    else:
        state, meta = read_torch_file(input_path), {}
    explicit = {k: v for k, v in (("padding", padding), ("conv_bias", conv_bias)) if v not in (None, "auto")}
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
    save_weights(net, output_path, {"arch": arch, "num_classes": classes, **options, "converted_from": input_path})
    return net, classes, unused, notes


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, help="ats_ms model name, e.g. resnet32x4, wrn_40_2, vgg13")
    parser.add_argument("--input", required=True, help="PyTorch .pth / .pt file")
    parser.add_argument("--output", required=True, help="MindSpore .ckpt to write")
    parser.add_argument("--num-classes", type=int, help="default: read from the classifier weight")
    parser.add_argument("--padding", choices=("auto", "symmetric", "same"), default="auto",
                        help="ResNet padding; auto: the demo's 'same' for MindSpore checkpoints without ats_ms "
                             "metadata, else what the file records (PyTorch files: symmetric)")
    parser.add_argument("--conv-bias", choices=("auto", "true", "false"), default="auto",
                        help="VGG convolution biases; auto: none for the demo's checkpoints, else what the file "
                             "records (PyTorch files: with bias)")
    args = parser.parse_args(argv)
    from ats_ms.config.arch_names import check_arch  # pylint: disable=import-outside-toplevel
    check_arch(args.arch, "--arch")
    conv_bias = {"auto": None, "true": True, "false": False}[args.conv_bias]
    _, classes, unused, notes = convert(args.arch, args.input, args.output, args.num_classes, args.padding, conv_bias)
    print(f"converted {args.input} -> {args.output} ({args.arch}, {classes} classes)"
          + (f"; ignored {len(unused)} entries: {', '.join(unused[:5])}" if unused else ""))
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
