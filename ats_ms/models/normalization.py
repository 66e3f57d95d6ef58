"""Feed a network the inputs it was trained on when the data pipeline normalises differently.

A teacher trained with one mean/std (published CIFAR-10 ResNets: ImageNet's) may teach a student whose
pipeline uses another (CIFAR-10's own).  The student's pipeline stays as configured; the teacher gets the
per-channel affine map between the two, computed inside the graph before its first layer:

    x_teacher = (x_raw - m_t) / s_t,  x_raw = x_pipeline * s_p + m_p
    => x_teacher = x_pipeline * (s_p / s_t) + (m_p - m_t) / s_t

which is exact (up to float rounding).  Checkpoints record the normalisation a network was trained with
under ``normalization`` (a JSON string: MindSpore checkpoint metadata holds scalars and strings).
"""
import json

import numpy as np
import mindspore as ms
from mindspore import nn

META_KEY = "normalization"


def encode(mean, std):
    return json.dumps({"mean": [float(v) for v in mean], "std": [float(v) for v in std]})


def recorded(meta):
    """(mean, std) a checkpoint's metadata records, or None."""
    text = (meta or {}).get(META_KEY)
    if not text:
        return None
    try:
        value = json.loads(str(text))
        return tuple(float(v) for v in value["mean"]), tuple(float(v) for v in value["std"])
    except (ValueError, KeyError, TypeError):
        return None


def same(a, b, tol=1e-7):
    return np.allclose(np.asarray(a[0]), np.asarray(b[0]), atol=tol, rtol=0) and \
        np.allclose(np.asarray(a[1]), np.asarray(b[1]), atol=tol, rtol=0)


class Renormalize(nn.Cell):
    """``net`` behind the affine map from the pipeline's normalisation to the one ``net`` was trained with."""

    def __init__(self, net, pipeline, trained):
        super().__init__()
        (mp, sp), (mt, st) = [(np.asarray(m, np.float64), np.asarray(s, np.float64)) for m, s in (pipeline, trained)]
        channels = len(mp)
        self.scale = ms.Tensor((sp / st).reshape(1, channels, 1, 1).astype(np.float32))
        self.shift = ms.Tensor(((mp - mt) / st).reshape(1, channels, 1, 1).astype(np.float32))
        self.net = net
        self.trained = (tuple(mt.tolist()), tuple(st.tolist()))

    def construct(self, x):
        return self.net(x * self.scale + self.shift)


def fed_as_trained(net, pipeline, trained):
    """``net`` itself when ``trained`` is None or equals ``pipeline``, else ``Renormalize(net, ...)``."""
    if trained is None or same(pipeline, trained):
        return net
    return Renormalize(net, pipeline, trained)
