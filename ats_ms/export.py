"""``python -m ats_ms.export``: write a deployable model and prove it gives the same logits.

    python -m ats_ms.export --config runs/x/config.yaml --checkpoint runs/x/best.ckpt [--format MINDIR]

The exported file is loaded back (``mindspore.load`` + ``nn.GraphCell``) and run on a random batch;
the command fails unless its logits match the checkpoint's network to 1e-4.
"""
import argparse
import os
import sys

import numpy as np

from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.errors import AtsError

SUFFIX = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}
TOLERANCE = 1e-4


def export_and_verify(net, size, batch_size, fmt, output):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindspore import nn  # pylint: disable=import-outside-toplevel
    x = np.random.RandomState(0).randn(batch_size, 3, size, size).astype(np.float32)
    base = output[: -len(SUFFIX[fmt])] if output.endswith(SUFFIX[fmt]) else output
    os.makedirs(os.path.dirname(os.path.abspath(base)), exist_ok=True)
    try:
        ms.export(net, ms.Tensor(x), file_name=base, file_format=fmt)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise AtsError(f"Export to {fmt} failed: {str(exc).splitlines()[0]}. MINDIR works on every device; "
                       "AIR needs an Ascend machine.") from None
    path = base + SUFFIX[fmt]
    if fmt != "MINDIR":
        return path, None
    expected = net(ms.Tensor(x)).asnumpy()
    got = nn.GraphCell(ms.load(path))(ms.Tensor(x)).asnumpy()
    diff = float(np.abs(got - expected).max())
    if not diff <= TOLERANCE:
        raise AtsError(f"The exported model '{path}' differs from the checkpoint's network by {diff:.3g} "
                       f"(tolerance {TOLERANCE}); do not deploy it.")
    return path, diff


def _demo_paths(args):
    """The demo's export.py reads <ckpt_dir>/<ckpt_name> and writes <ckpt_dir>/<stem>_mindir.mindir; an
    ats_ms run of that name keeps its weights in <ckpt_dir>/<stem>/best.ckpt."""
    if not (args.demo_ckpt_dir and args.demo_ckpt_name and args.demo_net_name):
        raise AtsError("Give --config and --checkpoint, or the demo's --net_name, --ckpt_dir and --ckpt_name.")
    from ats_ms.demo_flags import arch_name  # pylint: disable=import-outside-toplevel
    stem = args.demo_ckpt_name[:-5] if args.demo_ckpt_name.endswith(".ckpt") else args.demo_ckpt_name
    run_ckpt = os.path.join(args.demo_ckpt_dir, stem, "best.ckpt")
    checkpoint = run_ckpt if os.path.isfile(run_ckpt) else os.path.join(args.demo_ckpt_dir, args.demo_ckpt_name)
    overrides = [f"model.arch={arch_name(args.demo_net_name)}"]
    if args.demo_n_classes:
        overrides.append(f"model.num_classes={args.demo_n_classes}")
    if args.demo_device:
        overrides.append(f"runtime.device_target={args.demo_device}")
    return checkpoint, os.path.join(args.demo_ckpt_dir, f"{stem}_mindir.mindir"), overrides


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="the run's config.yaml (or give the demo flags below)")
    parser.add_argument("--checkpoint", help="best.ckpt of a run (or --ckpt_dir/--ckpt_name)")
    parser.add_argument("--format", default="MINDIR", choices=sorted(SUFFIX), type=str.upper)
    parser.add_argument("--output", help="file to write (default: next to the checkpoint, named after it)")
    parser.add_argument("--batch-size", type=int, default=1, help="batch dimension of the exported graph")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    demo = parser.add_argument_group("model-zoo demo export.py flags")
    for flag in ("--device", "--device_id", "--n_classes", "--t_net_name", "--net_name", "--ckpt_dir", "--ckpt_name"):
        demo.add_argument(flag, dest="demo_" + flag[2:])
    args = parser.parse_intermixed_args(argv)
    overrides = list(args.overrides) + ["checkpoint.resume=none"]
    if args.checkpoint is None:
        args.checkpoint, output, demo_overrides = _demo_paths(args)
        args.output = args.output or output
        overrides = demo_overrides + overrides
    elif args.config is None:
        raise AtsError("--checkpoint needs --config (the run's config.yaml) to know the network.")
    cfg = load_config(args.config, overrides)
    from ats_ms.data import input_size  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import network_from_checkpoint  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.runtime import setup_runtime  # pylint: disable=import-outside-toplevel
    setup_runtime(cfg.runtime)
    net, _ = network_from_checkpoint(cfg, args.checkpoint)
    output = args.output or os.path.splitext(args.checkpoint)[0] + "_" + cfg.model.arch + SUFFIX[args.format]
    path, diff = export_and_verify(net, input_size(cfg.data), args.batch_size, args.format, output)
    check = f"reloaded, max |logit difference| {diff:.2e}" if diff is not None else "not reloaded (MINDIR only)"
    print(f"exported {cfg.model.arch} to {path} ({check})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
