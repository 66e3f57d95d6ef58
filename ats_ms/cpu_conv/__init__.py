"""Which convolution the CPU backend runs: MindSpore's own, or ats_ms's oneDNN one (``runtime.cpu_conv``).

MindSpore 2.10's CPU convolution gives oneDNN plain NCHW tensors, which makes oneDNN run im2col + GEMM; the
library in this folder (``onednn_conv.cpp``) lets oneDNN choose blocked layouts and its direct kernels,
which makes a ResNet-20 -> ResNet-8 distillation step about 1.4x faster on a 2-core CPU (the measurements
are in docs/performance.md).  The networks reach it through ``ats_ms.models.conv.Conv2d``, a subclass of
``nn.Conv2d`` with the same parameters, so checkpoints do not depend on the choice.

``select`` is called once per process, before networks are built (``ats_ms.engine.runtime``):

- ``builtin``: MindSpore's convolution;
- ``onednn``: the library, built on first use (``ats_ms.cpu_conv.build``), self-tested
  (``ats_ms.cpu_conv.library``); an error naming the missing piece if it cannot be had;
- ``auto`` (default): ``onednn`` on CPU when it can be had, else ``builtin``, with the reason.
"""
import os
from dataclasses import dataclass
from typing import Optional

from ats_ms.common.errors import ConfigError

MODES = ("auto", "builtin", "onednn")


@dataclass
class Choice:
    name: str                 # "onednn" or "builtin"
    detail: str               # one line for the run's setup block
    library: Optional[object] = None

    @property
    def fast(self):
        return self.name == "onednn"


_current = Choice("builtin", "MindSpore built-in")
_library_cache = {}


def current():
    return _current


def default_threads():
    """MindSpore's CPU kernel thread count, capped at the CPUs this process may use."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:
        available = os.cpu_count() or 1
    try:
        wanted = int(ms.get_context("runtime_num_threads") or available)
    except (ValueError, TypeError, RuntimeError):
        wanted = available
    return max(1, min(wanted, available))


def _load_library():
    """Build, load and self-test once per process; returns (Library, None) or (None, Unavailable)."""
    if "result" not in _library_cache:
        from ats_ms.cpu_conv import build, library  # pylint: disable=import-outside-toplevel
        try:
            lib = library.load(build.built_library(), default_threads())
            problem = library.self_test(lib)
            if problem:
                raise build.Unavailable(f"the compiled convolution gives wrong results ({problem})",
                                        "report it, and use runtime.cpu_conv: builtin")
            _library_cache["result"] = (lib, None)
        except build.Unavailable as exc:
            _library_cache["result"] = (None, exc)
    return _library_cache["result"]


def _describe(lib):
    from ats_ms.cpu_conv import library  # pylint: disable=import-outside-toplevel
    from ats_ms.cpu_conv.geometry import Geometry  # pylint: disable=import-outside-toplevel
    kernel = library.implementation(lib, (64, 16, 32, 32), (16, 16, 3, 3), Geometry((1, 1), (1, 1, 1, 1)))
    return f"oneDNN direct ({kernel}; {lib.description})"


def select(mode="auto", device_target="CPU"):
    """Choose the convolution for networks built from now on; returns the Choice (see module doc)."""
    global _current  # pylint: disable=global-statement
    if mode not in MODES:
        raise ConfigError(f"runtime.cpu_conv must be one of {', '.join(MODES)}, not {mode!r}.")
    if mode == "builtin":
        _current = Choice("builtin", "MindSpore built-in (runtime.cpu_conv: builtin)")
    elif device_target != "CPU":
        if mode == "onednn":
            raise ConfigError(f"runtime.cpu_conv: onednn is a CPU convolution, but runtime.device_target is "
                              f"{device_target}. Use runtime.cpu_conv: auto (or builtin) on {device_target}.")
        _current = Choice("builtin", f"MindSpore built-in ({device_target})")
    else:
        lib, problem = _load_library()
        if lib is not None:
            _current = Choice("onednn", _describe(lib), lib)
        elif mode == "onednn":
            raise ConfigError(f"runtime.cpu_conv: onednn, but {problem.reason}. Fix: {problem.fix}; or set "
                              "runtime.cpu_conv: auto to fall back to MindSpore's convolution.")
        else:
            _current = Choice("builtin", f"MindSpore built-in (runtime.cpu_conv: auto, {problem.reason}; "
                                         f"for the faster oneDNN convolution: {problem.fix})")
    return _current


def layer_op(cell):
    """(op, geometry tensor) for an ``nn.Conv2d`` built under the current choice, or None (built-in)."""
    if not _current.fast:
        return None
    from ats_ms.cpu_conv.geometry import of_conv  # pylint: disable=import-outside-toplevel
    from ats_ms.cpu_conv.op import conv_op  # pylint: disable=import-outside-toplevel
    geometry = of_conv(cell)
    if geometry is None:
        return None
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    return conv_op(_current.library.path, geometry), ms.Tensor(geometry.array())
