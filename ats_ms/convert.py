"""``python -m ats_ms.convert``: turn a published checkpoint into an ats_ms checkpoint.

    python -m ats_ms.convert --input resnet56-4bfd9763.th --output resnet56_a.ckpt           # recognised: arch auto
    python -m ats_ms.convert --input pretrained/ --output teachers/                          # every recognised file
    python -m ats_ms.convert --arch resnet110 --input resnet110_vanilla/ckpt_epoch_240.pth --output resnet110.ckpt
    python -m ats_ms.convert --arch vgg8 --input ckpts/cifar100-VGG8.ckpt --output vgg8.ckpt   # model-zoo demo
    python -m ats_ms.convert --from cifar100_resnet56 --output resnet56.ckpt                 # download by name

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
import sys

from ats_ms.cli import run_cli
from ats_ms.common.errors import AtsError
from ats_ms.engine.import_model import PYTORCH_SUFFIXES, convert, convert_folder


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="auto", help="ats_ms model name, e.g. resnet32x4, wrn_40_2, vgg13; auto "
                                                       "(default): the recognised family's")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="PyTorch .th/.pth/.pt file, a demo .ckpt, or a folder of them")
    source.add_argument("--from", dest="from_name", metavar="NAME",
                        help="a published teacher by name (python -m ats_ms.zoo lists them): downloaded, its SHA-256 "
                             "checked against its release name, converted")
    parser.add_argument("--mirror", help="with --from: fetch the release file from this folder address instead")
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
    if args.from_name:
        from ats_ms.interop import zoo  # pylint: disable=import-outside-toplevel
        if args.arch != "auto" and args.arch != zoo.get(args.from_name).arch:
            raise AtsError(f"--from {args.from_name} is a {zoo.get(args.from_name).arch}; leave --arch out.")
        args.input = zoo.fetch(zoo.get(args.from_name), mirror=args.mirror)
    elif args.mirror:
        raise AtsError("--mirror goes with --from NAME (a published teacher fetched by name).")
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
