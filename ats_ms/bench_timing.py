"""The measuring pieces both benchmarks share (``bench`` for one student, ``bench_students`` for groups),
so their numbers mean the same thing: median over repetitions after warm-up, first call as compile time,
peak resident memory, and the same synthetic batch and optimizer."""
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np


def median_ms(fn, steps, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        times.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(times)


def first_call_s(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_batch(batch, classes, size):
    """One fixed CIFAR-sized batch (MindSpore tensors): only compute is timed."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    rng = np.random.RandomState(0)
    return (ms.Tensor(rng.randn(batch, 3, size, size).astype(np.float32)),
            ms.Tensor(rng.randint(0, classes, batch).astype(np.int32)))


def train_step(loss_net, params):
    """A training step over ``params`` with the default SGD settings at a constant learning rate."""
    from ats_ms.config.schema import OptimConfig  # pylint: disable=import-outside-toplevel
    from ats_ms.distill import TrainStep  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.optim import create_optimizer  # pylint: disable=import-outside-toplevel
    step = TrainStep(loss_net, create_optimizer(OptimConfig(), params, np.full(10 ** 6, 0.01, np.float32)))
    step.set_train(True)
    return step


def run_record(device, argv):
    """What a results file says about where and how it was measured."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    return {"device": device, "machine": {"processor": platform.processor() or platform.machine(),
                                          "cpus": os.cpu_count()},
            "versions": {"mindspore": ms.__version__, "python": platform.python_version()},
            "command": "python -m ats_ms.bench " + " ".join(argv if argv is not None else sys.argv[1:])}
