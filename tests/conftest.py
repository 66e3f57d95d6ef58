"""Shared fixtures: CPU graph mode for every test (the package default), small learnable data."""
import json
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


# The suite runs on two workers, one test file per worker at a time (`-n 2 --dist loadfile`). Handing out the
# longest files first lets both workers finish together instead of one waiting on a late long file. How long a
# file takes is measured, not kept by hand: each run stores its files' durations in pytest's cache, and
# `tests/durations.json` (written by `pytest --save-durations`) gives the order on a fresh clone. A file neither
# knows goes first: it may be long.
DURATIONS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "durations.json")
CACHE_KEY = "ats_ms/file_durations"


def pytest_addoption(parser):
    parser.addoption("--save-durations", action="store_true",
                     help="write each test file's measured duration to tests/durations.json (the order on a fresh clone)")


def _known_durations(config):
    known = {}
    if os.path.isfile(DURATIONS_FILE):
        with open(DURATIONS_FILE, encoding="utf-8") as f:
            known.update(json.load(f))
    known.update(config.cache.get(CACHE_KEY, {}) if getattr(config, "cache", None) else {})
    return known


def pytest_unconfigure(config):
    """Cells the test modules still hold are destroyed at interpreter shutdown, where MindSpore's ``Cell.__del__``
    fails and Python would print a traceback for each (``ats_ms.cli.quiet_cell_finalizers``)."""
    del config
    from ats_ms.cli import quiet_cell_finalizers
    quiet_cell_finalizers()


def pytest_collection_modifyitems(config, items):
    known = _known_durations(config)

    def rank(item):
        return -known.get(os.path.basename(str(item.fspath)), float("inf"))
    items.sort(key=rank)  # stable: the order within a file is kept


_measured = {}


def pytest_runtest_logreport(report):
    """Sum each file's setup, call and teardown times (on xdist's controller too, from the workers' reports)."""
    name = os.path.basename(report.location[0]) if report.location else None
    if name:
        _measured[name] = _measured.get(name, 0.0) + report.duration


def pytest_sessionfinish(session):
    if getattr(session.config, "workerinput", None) is not None or not _measured:
        return  # an xdist worker: the controller has every report
    durations = {k: round(v, 1) for k, v in sorted(_measured.items())}
    if getattr(session.config, "cache", None) is not None:
        session.config.cache.set(CACHE_KEY, dict(session.config.cache.get(CACHE_KEY, {}), **durations))
    if session.config.getoption("--save-durations"):
        with open(DURATIONS_FILE, "w", encoding="utf-8") as f:
            json.dump(durations, f, indent=1, sort_keys=True)
            f.write("\n")
