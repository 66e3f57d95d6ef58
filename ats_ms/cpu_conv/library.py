"""Load the compiled convolution library, size its thread pool, and prove it computes a convolution.

The library's three functions have MindSpore's AOT signature, which ctypes can call with numpy buffers, so
the self-test runs them directly, before any network uses them: the forward against a numpy convolution
(im2col, written here), the two backward functions through the adjoint identities that define them,
``<dy, conv(x, w)> = <conv_backward_data(dy, w), x> = <conv_backward_weights(dy, x), w>``, on the kinds of
convolution the networks use (3x3 and 1x1, strides 1 and 2, explicit and "same" padding, depthwise).  A
library that fails it is not used.
"""
import ctypes
import os
from dataclasses import dataclass

import numpy as np

from ats_ms.cpu_conv.geometry import Geometry

FUNCTIONS = ("ats_conv_forward", "ats_conv_backward_data", "ats_conv_backward_weights")


@dataclass
class Library:
    path: str
    handle: ctypes.CDLL
    description: str


def _call(function, inputs, output):
    arrays = [np.ascontiguousarray(a) for a in inputs] + [output]
    n = len(arrays)
    params = (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays])
    ndims = (ctypes.c_int * n)(*[a.ndim for a in arrays])
    shapes_kept = [np.asarray(a.shape, np.int64) for a in arrays]
    shapes = (ctypes.POINTER(ctypes.c_int64) * n)(*[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in shapes_kept])
    dtypes = (ctypes.c_char_p * n)(*[("float32" if a.dtype == np.float32 else str(a.dtype)).encode() for a in arrays])
    status = function(n, params, ndims, shapes, dtypes, None, None)
    if status != 0:
        raise RuntimeError(f"{function.__name__} returned {status}")
    return output


def forward(lib, x, w, geometry):
    y = np.empty(geometry.output_shape(x.shape, w.shape), np.float32)
    return _call(lib.handle.ats_conv_forward, [x, w, geometry.array()], y)


def backward_data(lib, dy, w, x, geometry):
    return _call(lib.handle.ats_conv_backward_data, [dy, w, x, geometry.array()], np.empty(x.shape, np.float32))


def backward_weights(lib, dy, x, w, geometry):
    return _call(lib.handle.ats_conv_backward_weights, [dy, x, w, geometry.array()], np.empty(w.shape, np.float32))


def reference_forward(x, w, geometry):
    """Direct numpy convolution (float64), the self-test's independent answer."""
    n, c, h, wd = x.shape
    out_c, per_group, kh, kw = w.shape
    top, bottom, left, right = geometry.pads(h, wd, kh, kw)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    oh, ow = geometry.output_shape(x.shape, w.shape)[2:]
    sh, sw = geometry.stride
    g = geometry.groups
    y = np.zeros((n, out_c, oh, ow))
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (n, c, oh, ow)
            for group in range(g):
                xs = window[:, group * per_group:(group + 1) * per_group]
                ws = w[group * (out_c // g):(group + 1) * (out_c // g), :, i, j].astype(np.float64)
                y[:, group * (out_c // g):(group + 1) * (out_c // g)] += np.einsum("nchw,oc->nohw", xs, ws)
    return y


SELF_TEST_CASES = (  # (x shape, w shape, stride, padding, groups, same)
    ((2, 3, 9, 9), (8, 3, 3, 3), 1, 1, 1, False),
    ((2, 8, 8, 8), (16, 8, 3, 3), 2, 1, 1, False),
    ((2, 8, 8, 8), (16, 8, 1, 1), 2, 0, 1, False),
    ((2, 8, 8, 8), (8, 8, 3, 3), 2, 0, 1, True),
    ((2, 8, 7, 7), (8, 1, 3, 3), 1, 1, 8, False),
)


def self_test(lib, tolerance=1e-4):
    """None when every case agrees, else a sentence naming the first that does not."""
    rng = np.random.default_rng(0)
    for x_shape, w_shape, stride, padding, groups, same in SELF_TEST_CASES:
        geometry = Geometry((stride, stride), (padding,) * 4, groups, same)
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        what = f"x {x_shape}, w {w_shape}, stride {stride}, {'same' if same else f'pad {padding}'}, groups {groups}"
        try:
            y = forward(lib, x, w, geometry)
            dy = rng.standard_normal(y.shape).astype(np.float32)
            dx = backward_data(lib, dy, w, x, geometry)
            dw = backward_weights(lib, dy, x, w, geometry)
        except RuntimeError as exc:
            return f"{what}: {exc}"
        expected = reference_forward(x, w, geometry)
        scale = np.abs(expected).max()
        if np.abs(y - expected).max() > tolerance * scale:
            return f"{what}: forward differs from a direct convolution by {np.abs(y - expected).max():.3g}"
        inner = float(np.sum(dy.astype(np.float64) * expected))
        for name, grad, primal in (("backward-data", dx, x), ("backward-weights", dw, w)):
            got = float(np.sum(grad.astype(np.float64) * primal))
            if abs(got - inner) > tolerance * max(1.0, abs(inner)) * 10:
                return f"{what}: {name} breaks <dy, y> = <grad, input> ({got:.6g} vs {inner:.6g})"
    return None


def load(path, threads):
    """Open the library, set its thread count (before its first convolution) and describe it."""
    try:
        handle = ctypes.CDLL(path)
    except OSError as exc:
        from ats_ms.cpu_conv.build import Unavailable  # pylint: disable=import-outside-toplevel
        raise Unavailable(f"the compiled convolution {path} does not load ({exc})",
                          f"delete {os.path.dirname(path)} to rebuild it, or use runtime.cpu_conv: builtin") from None
    for name in FUNCTIONS:
        getattr(handle, name).restype = ctypes.c_int
    handle.ats_conv_set_threads.restype = ctypes.c_int
    handle.ats_conv_set_threads(int(threads))
    buf = ctypes.create_string_buffer(200)
    handle.ats_conv_describe(buf, len(buf))
    return Library(path, handle, buf.value.decode())


def implementation(lib, x_shape, w_shape, geometry):
    """The kernel oneDNN picks for this forward convolution (e.g. ``jit:avx2``)."""
    shapes = [np.asarray(s, np.int64) for s in (x_shape, w_shape, geometry.output_shape(x_shape, w_shape))]
    geo = geometry.array()
    pointer = ctypes.POINTER(ctypes.c_int64)
    buf = ctypes.create_string_buffer(100)
    status = lib.handle.ats_conv_implementation(*[s.ctypes.data_as(pointer) for s in shapes],
                                                geo.ctypes.data_as(pointer), buf, len(buf))
    return buf.value.decode() if status >= 0 else "unknown"
