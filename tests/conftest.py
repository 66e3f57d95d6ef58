"""Shared fixtures: CPU graph mode for every test (the package default), small learnable data."""
import os

import numpy as np
import pytest

import ats_ms  # noqa: F401  (applies the CPU environment defaults before MindSpore loads)
import mindspore as ms

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")


@pytest.fixture
def pynative():
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=ms.GRAPH_MODE)


def learnable_problem(n=256, size=8, classes=10, seed=0):
    """Images whose label is a fixed linear function of the pixels: learnable in a few steps."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 3, size, size).astype(np.float32)
    w = np.random.RandomState(1000).randn(3 * size * size, classes)
    y = (x.reshape(n, -1) @ w).argmax(1).astype(np.int32)
    return x, y
