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
    expected = net(ms.Tensor(x)).asnumpy()
    if fmt != "MINDIR":
        return path, None
    got = nn.GraphCell(ms.load(path))(ms.Tensor(x)).asnumpy()
    diff = float(np.abs(got - expected).max())
    if not diff <= TOLERANCE:
        raise AtsError(f"The exported model '{path}' differs from the checkpoint's network by {diff:.3g} "
                       f"(tolerance {TOLERANCE}); do not deploy it.")
    return path, diff


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", default="MINDIR", choices=sorted(SUFFIX), type=str.upper)
    parser.add_argument("--output", help="file to write (default: next to the checkpoint, named after it)")
    parser.add_argument("--batch-size", type=int, default=1, help="batch dimension of the exported graph")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = parser.parse_intermixed_args(argv)
    cfg = load_config(args.config, list(args.overrides) + ["checkpoint.resume=none"])
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
