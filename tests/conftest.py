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

from ats_ms import cpu_conv  # noqa: E402

# Networks built outside a command get the package's CPU default too: ats_ms's oneDNN convolution where it
# builds (runtime.cpu_conv: auto), which tests/test_cpu_conv.py requires to build here.
cpu_conv.select("auto")


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


# The suite runs on two workers, one test file per worker at a time (`-n 2 --dist loadfile`). Handing out
# the longest files first lets both workers finish together instead of one waiting on a late long file.
LONGEST_FIRST = ["test_published_teachers", "test_real_cifar10",  # real data: long where present, else skipped
                 "test_distributed", "test_faults", "test_shared_teacher", "test_train_e2e", "test_models",
                 "test_demo_parity", "test_cpu_conv", "test_shipped_configs", "test_methods", "test_quickstart",
                 "test_experiments", "test_resume", "test_convert", "test_bench", "test_imagenet_training",
                 "test_other_datasets", "test_packaging", "test_distill_cell", "test_analysis",
                 "test_imagenet_networks", "test_data", "test_report_views", "test_doctor", "test_losses",
                 "test_bad_input"]


def pytest_unconfigure(config):
    """Cells the test modules still hold are destroyed at interpreter shutdown, where MindSpore's ``Cell.__del__``
    fails and Python would print a traceback for each (``ats_ms.cli.quiet_cell_finalizers``)."""
    del config
    from ats_ms.cli import quiet_cell_finalizers
    quiet_cell_finalizers()


def pytest_collection_modifyitems(items):
    def rank(item):
        module = item.module.__name__.rsplit(".", 1)[-1]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: the order within a file is kept
