"""``python -m ats_ms.convert``: turn a PyTorch checkpoint of a CIFAR network into an ats_ms checkpoint.

    python -m ats_ms.convert --arch resnet110 --input resnet110_vanilla/ckpt_epoch_240.pth --output resnet110.ckpt
    python -m ats_ms.convert --arch vgg8 --input ckpts/cifar100-VGG8.ckpt --output vgg8.ckpt   # model-zoo demo

Reads checkpoints of RepDistiller / mdistiller (their published teachers) and of the ATS authors'
code (needs ``torch`` for this command only: ``pip install torch``), and MindSpore checkpoints written
by the model-zoo ATS demo (``.ckpt``: same parameter names as ats_ms; optimizer entries are dropped).  The class count is read from
the classifier unless ``--num-classes`` is given.  The result loads with ``create_model`` +
``load_param_into_net`` and can be used directly as ``teacher.checkpoint``.
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


DEMO_RESNET_NOTE = ("note: the model-zoo demo's ResNet pads its stride-2 3x3 convolutions TensorFlow-style "
                    "(pad_mode 'same': nothing above/left, one row/column below/right) where ats_ms and the PyTorch "
                    "references pad one pixel on every side; the weights load unchanged but logits differ slightly, "
                    "so evaluate (python -m ats_ms.eval) or fine-tune before relying on the converted teacher.")


def read_mindspore_file(path):
    """A MindSpore checkpoint (the model-zoo demo's) as name -> numpy array, network entries only."""
    from ats_ms.engine.checkpoint import read_checkpoint  # pylint: disable=import-outside-toplevel
    params = read_checkpoint(path, "MindSpore checkpoint")
    skip = ("moments.", "learning_rate", "global_step", "momentum", "scale_sense", "current_iterator_step")
    return {k: v.asnumpy() for k, v in params.items() if "." in k and not k.startswith(skip)}


def infer_num_classes(state):
    for name, value in state.items():
        if name.endswith(CLASSIFIER_SUFFIXES) and value.ndim == 2:
            return int(value.shape[0])
    raise CheckpointError("Cannot find the classifier in the checkpoint to read the class count; pass --num-classes.")


def convert(arch, input_path, output_path, num_classes=None):
    from ats_ms.engine.checkpoint import save_weights  # pylint: disable=import-outside-toplevel
    from ats_ms.interop.pytorch import load_into  # pylint: disable=import-outside-toplevel
    from ats_ms.models import create_model  # pylint: disable=import-outside-toplevel
    from_mindspore = input_path.endswith(".ckpt")
    state = read_mindspore_file(input_path) if from_mindspore else read_torch_file(input_path)
    classes = num_classes or infer_num_classes(state)
    net = create_model(arch, classes)
    unused = load_into(net, state, arch, input_path)
    save_weights(net, output_path, {"arch": arch, "num_classes": classes, "converted_from": input_path})
    return net, classes, unused


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, help="ats_ms model name, e.g. resnet32x4, wrn_40_2, vgg13")
    parser.add_argument("--input", required=True, help="PyTorch .pth / .pt file")
    parser.add_argument("--output", required=True, help="MindSpore .ckpt to write")
    parser.add_argument("--num-classes", type=int, help="default: read from the classifier weight")
    args = parser.parse_args(argv)
    _, classes, unused = convert(args.arch, args.input, args.output, args.num_classes)
    print(f"converted {args.input} -> {args.output} ({args.arch}, {classes} classes)"
          + (f"; ignored {len(unused)} entries: {', '.join(unused[:5])}" if unused else ""))
    if args.input.endswith(".ckpt") and args.arch.startswith("resnet"):
        print(DEMO_RESNET_NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
