"""``python -m ats_ms.export``: write a deployable model and prove it gives the same logits.

    python -m ats_ms.export --config runs/x/config.yaml --checkpoint runs/x/best.ckpt [--format MINDIR]
    python -m ats_ms.export --device CPU --device_id 0 --n_classes 100 --t_net_name ResNet14 --net_name VGG8 \
        --ckpt_dir ./ckpts --ckpt_name cifar100-ResNet14-VGG8-ATS.ckpt          # the demo's export.py flags

The exported file is run on a random batch (MINDIR loaded back with ``mindspore.load`` + ``nn.GraphCell``, ONNX
with onnxruntime when it is installed, TORCH in the PyTorch reference network); the command fails, and removes
the file, unless its logits match the checkpoint's network to 1e-4.  ONNX without onnxruntime (``pip install
"ats_ms[onnx]"``) and AIR (Ascend only) are written unchecked, and the command says so.

With the demo's flags (no ``--config``/``--checkpoint``) it does what the demo's ``export.py`` does: reads
``<ckpt_dir>/<ckpt_name>`` (a file written by the demo or by an ats_ms run with demo flags; the ats_ms run
folder's ``last.ckpt`` if that file is absent), on ``--device`` (default Ascend, as in the demo) and
``--device_id``, and writes ``<ckpt_dir>/<ckpt_name up to its first dot>_mindir.mindir``.
"""
import argparse
import dataclasses
import os
import sys

from ats_ms.cli import run_cli
from ats_ms.process.startup import prepare_process
from ats_ms.config import load_config
from ats_ms.engine import run_dir as rd
from ats_ms.common.errors import AtsError

DEMO_DEFAULTS = {"device": "Ascend", "device_id": "0", "n_classes": "100", "net_name": "VGG8",
                 "ckpt_dir": "./ckpts/", "ckpt_name": "cifar100-ResNet14.ckpt"}


def _demo_paths(args):
    """The demo's export.py: reads <ckpt_dir>/<ckpt_name>, writes <ckpt_dir>/<ckpt_name.split('.')[0]>_mindir.mindir."""
    from ats_ms.cli.demo_flags import arch_name  # pylint: disable=import-outside-toplevel
    value = {k: getattr(args, "demo_" + k) or v for k, v in DEMO_DEFAULTS.items()}
    name = value["ckpt_name"]
    checkpoint = os.path.join(value["ckpt_dir"], name)
    stem = name[:-5] if name.endswith(".ckpt") else name
    run_last = os.path.join(value["ckpt_dir"], stem, rd.LAST)
    if not os.path.isfile(checkpoint) and os.path.isfile(run_last):
        checkpoint = run_last
    overrides = [f"model.arch={arch_name(value['net_name'])}", f"model.num_classes={value['n_classes']}",
                 f"runtime.device_target={value['device']}", f"runtime.device_id={value['device_id']}"]
    if args.demo_t_net_name:
        print(f"demo flags: --t_net_name {args.demo_t_net_name} is accepted and, as in the demo, not used by export")
    output = os.path.join(value["ckpt_dir"], f"{name.split('.')[0]}_mindir.mindir")
    return checkpoint, output, overrides


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="the run's config.yaml (or give the demo flags below)")
    parser.add_argument("--checkpoint", help="best.ckpt of a run (or --ckpt_dir/--ckpt_name)")
    parser.add_argument("--format", default="MINDIR", choices=("AIR", "MINDIR", "ONNX", "TORCH"), type=str.upper,
                        help="MINDIR (default), ONNX, AIR (Ascend only), or TORCH: a PyTorch state dict (.pth) for the "
                             "reference network of the CIFAR resnet / wrn / vgg families")
    parser.add_argument("--output", help="file to write (default: next to the checkpoint, named after it)")
    parser.add_argument("--batch-size", type=int, default=1, help="batch dimension of the exported graph")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    demo = parser.add_argument_group("model-zoo demo export.py flags")
    for flag in ("--device", "--device_id", "--n_classes", "--t_net_name", "--net_name", "--ckpt_dir", "--ckpt_name"):
        demo.add_argument(flag, dest="demo_" + flag[2:])
    args = parser.parse_intermixed_args(argv)
    if args.batch_size < 1:
        raise AtsError(f"--batch-size must be at least 1, got {args.batch_size}.")
    overrides = list(args.overrides) + ["checkpoint.resume=none"]
    if args.checkpoint is None and args.config is None:
        args.checkpoint, output, demo_overrides = _demo_paths(args)
        args.output = args.output or output
        overrides = demo_overrides + overrides
    elif args.checkpoint is None or args.config is None:
        raise AtsError("Give both --config (the run's config.yaml) and --checkpoint, or the demo's export flags "
                       "(--net_name, --n_classes, --ckpt_dir, --ckpt_name, --device, --device_id).")
    else:
        if args.demo_device:
            overrides.append(f"runtime.device_target={args.demo_device}")
        if args.demo_device_id:
            overrides.append(f"runtime.device_id={args.demo_device_id}")
    cfg = load_config(args.config, overrides)
    # an exported graph holds MindSpore's own operators (below), so the CPU keeps the cap they need
    prepare_process(dataclasses.replace(cfg, runtime=dataclasses.replace(cfg.runtime, cpu_conv="builtin")))
    from ats_ms.data.factory import input_shape  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.export_model import SUFFIX, export_and_verify  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import network_from_checkpoint  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.runtime import setup_runtime  # pylint: disable=import-outside-toplevel
    setup_runtime(cfg.runtime, cpu_conv_mode="builtin")  # an exported graph holds MindSpore's operators only
    restored = network_from_checkpoint(cfg, args.checkpoint)
    net = restored.net
    output = args.output or os.path.splitext(args.checkpoint)[0] + "_" + cfg.model.arch + SUFFIX[args.format]
    path, diff = export_and_verify(net, input_shape(cfg.data), args.batch_size, args.format, output,
                                   arch=cfg.model.arch, options=restored.options)
    if args.format == "TORCH":
        check = f"loaded into the PyTorch reference network, max |logit difference| {diff:.2e}"
    elif diff is not None:
        check = (f"run by onnxruntime, max |logit difference| {diff:.2e}" if args.format == "ONNX"
                 else f"reloaded, max |logit difference| {diff:.2e}")
    else:
        check = ("not checked: onnxruntime is not installed (pip install \"ats_ms[onnx]\" checks the file with it)"
                 if args.format == "ONNX" else "not checked: AIR runs only on Ascend")
    print(f"exported {cfg.model.arch} to {path} ({check})")
    if args.format == "TORCH":
        print(f"load it with: net = ats_ms.interop.torch_reference.build_torch_model('{cfg.model.arch}', classes); "
              f"net.load_state_dict(torch.load('{path}'))")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
