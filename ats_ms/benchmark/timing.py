"""The measuring pieces both benchmarks share (``bench`` for one student, ``bench_students`` for groups),
so their numbers mean the same thing: median over repetitions after a warm-up that lasts until the step time
is steady, first call as compile time, peak resident memory, and the same synthetic batch and optimizer.

Why the warm-up is adaptive: after a graph compile MindSpore's first CPU steps run several times slower than
the steady state (a resnet110 -> vgg8 step: 4.2 s after one warm-up step, 1.3 s after three), so a fixed,
short warm-up inflates whichever measurement happens to come first."""
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np


STEADY_TOLERANCE = 0.10   # two consecutive warm-up steps within 10 % of each other: steady
MAX_WARMUP_STEPS = 40


def warm_up(fn, min_steps, tolerance=STEADY_TOLERANCE, max_steps=MAX_WARMUP_STEPS, timer=time.perf_counter):
    """Run ``fn`` at least ``min_steps`` times and until two consecutive calls take times within ``tolerance``
    of each other (at most ``max_steps``).  Returns (steps run, whether the time became steady)."""
    previous = None
    for n in range(1, max_steps + 1):
        start = timer()
        fn()
        took = timer() - start
        if n >= min_steps and previous is not None and abs(took - previous) <= tolerance * previous:
            return n, True
        previous = took
    return max_steps, False


def median_ms(fn, steps, reps, warmup):
    """(median ms per step over ``reps`` repetitions of ``steps`` steps, warm-up steps used, steady?)."""
    used, steady = warm_up(fn, warmup)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        times.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(times), used, steady


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


ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """(model name, the vector-ISA flags of ISA_FLAGS it has) of this machine's CPU, as /proc/cpuinfo says."""
    name, flags = platform.processor() or platform.machine(), []
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and ":" in line:
                    present = set(line.split(":", 1)[1].split())
                    flags = [flag for flag in ISA_FLAGS if flag in present]
                    break
    except OSError:
        pass
    return name, flags


def run_record(device, argv):
    """What a results file says about where and how it was measured."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    name, flags = cpu_model()
    return {"device": device, "machine": {"processor": name, "isa": flags, "cpus": os.cpu_count()},
            "versions": {"mindspore": ms.__version__, "python": platform.python_version()},
            "command": "python -m ats_ms.bench " + " ".join(argv if argv is not None else sys.argv[1:])}
