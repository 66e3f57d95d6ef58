"""Writing a network as a deployable file, checked before it appears under its name.

Every format is written into a private temporary folder beside the target (same filesystem, so the final
rename is atomic), checked, given an ordinary file mode and only then renamed to the name asked for.  So a
full disk, a failed check or a Ctrl-C leaves no truncated or unchecked model where the model should be, and
nothing of the user's changes: MindSpore's ONNX writer changes the mode of the folder it writes into, which
is the private one.  Checks: MINDIR is loaded back (``mindspore.load`` + ``nn.GraphCell``), TORCH into the
PyTorch reference network (``load_state_dict(strict=True)``) and ONNX into onnxruntime when it is installed (the
``onnx`` extra); each must give the network's logits on a random batch to ``TOLERANCE``.  ONNX without
onnxruntime, and AIR (no runtime for it off Ascend), are written without a check, and the command says so.
"""
import io
import os
import shutil
import tempfile

import numpy as np
import mindspore as ms
from mindspore import nn

from ats_ms.engine import run_dir as rd
from ats_ms.engine.checkpoint import named_parameters
from ats_ms.common.errors import AtsError
from ats_ms.interop.to_torch import check_exportable, torch_state_dict
from ats_ms.common.optional import require

SUFFIX = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air", "TORCH": ".pth"}
TOLERANCE = 1e-4
ADVICE = {"again": "run the same export command again", "where": "--output"}


def target_path(output, fmt):
    """The file the user gets: ``output`` with the format's suffix."""
    return output if output.endswith(SUFFIX[fmt]) else output + SUFFIX[fmt]


def export_and_verify(net, shape, batch_size, fmt, output, arch=None, options=None):
    """Write ``net`` as ``fmt`` to ``output`` (suffix added); returns (path, max |logit difference| or None).

    ``shape``: (channels, height, width) of one input, or an int for a 3-channel square image.  TORCH needs the
    network's ``arch`` and build ``options`` (its PyTorch reference is built from them)."""
    shape = (3, shape, shape) if isinstance(shape, int) else tuple(shape)
    x = np.random.RandomState(0).randn(batch_size, *shape).astype(np.float32)
    final = target_path(output, fmt)
    folder = os.path.dirname(os.path.abspath(final))
    if fmt == "TORCH":
        check_exportable(arch, options or {})
    with rd.guarded_write(final, "no file was written there", ADVICE):
        os.makedirs(folder, exist_ok=True)
        private = tempfile.mkdtemp(prefix=".ats_ms-export-", dir=folder)
    try:
        tmp = os.path.join(private, "model" + SUFFIX[fmt])
        with rd.guarded_write(final, "no file was written there", ADVICE):
            if fmt == "TORCH":
                diff = _write_torch(net, arch, x, tmp)
            else:
                _write_mindspore(net, x, fmt, tmp)
                diff = CHECKS[fmt](net, x, tmp, final) if fmt in CHECKS else None
            rd.make_ordinary(tmp)
            os.replace(tmp, final)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return final, diff


def _write_mindspore(net, x, fmt, tmp):
    try:
        ms.export(net, ms.Tensor(x), file_name=tmp[: -len(SUFFIX[fmt])], file_format=fmt)
    except OSError:
        raise
    except (RuntimeError, ValueError, TypeError) as exc:
        cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "No space left" in str(exc) or "File too large" in str(exc):
            raise OSError(28, cause) from None
        raise AtsError(f"Export to {fmt} failed: {cause}. MINDIR works on every device; AIR needs an Ascend "
                       "machine.") from None
    if not os.path.isfile(tmp):
        raise AtsError(f"Export to {fmt} wrote no file (MindSpore gave no reason); nothing was left at the target.")


def _reload_mindir(net, x, tmp, final):
    try:
        expected = net(ms.Tensor(x)).asnumpy()
        got = nn.GraphCell(ms.load(tmp))(ms.Tensor(x)).asnumpy()
    except (RuntimeError, ValueError, TypeError) as exc:
        raise AtsError(f"The exported model could not be loaded back ({str(exc).splitlines()[0]}); nothing was "
                       f"written to '{final}'.") from None
    return _checked(float(np.abs(got - expected).max()), final)


def _run_onnx(net, x, tmp, final):
    """The ONNX file run by onnxruntime, or None (not checked) where onnxruntime is not installed."""
    try:
        import onnxruntime  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    try:
        session = onnxruntime.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
    except Exception as exc:  # pylint: disable=broad-except  (onnxruntime raises its own exception types)
        raise AtsError(f"onnxruntime could not run the exported ONNX model ({str(exc).splitlines()[0]}); nothing was "
                       f"written to '{final}'.") from None
    return _checked(float(np.abs(got - net(ms.Tensor(x)).asnumpy()).max()), final)


CHECKS = {"MINDIR": _reload_mindir, "ONNX": _run_onnx}


def _write_torch(net, arch, x, tmp):
    torch = require("torch", "Export to a PyTorch state dict (--format torch)")
    from ats_ms.interop.torch_reference import build_torch_model  # pylint: disable=import-outside-toplevel
    arrays = {name: param.asnumpy() for name, param in named_parameters(net)}
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in torch_state_dict(arrays).items()}
    buffer = io.BytesIO()  # PyTorch's own file writer turns a full disk into a C++ error; Python's gives the OS's
    torch.save(state, buffer)
    with open(tmp, "wb") as f:
        f.write(buffer.getbuffer())
    classes = next(v.shape[0] for k, v in arrays.items() if v.ndim == 2)
    reference = build_torch_model(arch, classes)
    reference.load_state_dict(torch.load(tmp, map_location="cpu", weights_only=True), strict=True)
    reference.eval()
    with torch.no_grad():
        got = reference(torch.from_numpy(x)).numpy()
    expected = net(ms.Tensor(x)).asnumpy()
    return _checked(float(np.abs(got - expected).max()), tmp)


def _checked(diff, final):
    if not diff <= TOLERANCE:
        raise AtsError(f"The exported model differed from the checkpoint's network by {diff:.3g} (tolerance "
                       f"{TOLERANCE}); nothing was written to '{final}', do not deploy an earlier copy either.")
    return diff
