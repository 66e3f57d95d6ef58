"""``python -m ats_ms.doctor.probe TARGET [--train]``: initialise one device target and, with ``--train``,
run one graph-mode training step with cross-entropy and one with ATS on a small network (on CPU with the
convolution ``runtime.cpu_conv: auto`` picks, which builds it on first use).  Prints one JSON
line.  The doctor runs it in a subprocess per target, so a target that crashes while initialising cannot
take the doctor down with it."""
import json
import sys
import time


def probe(target, train, result):
    """Fills ``result`` as it goes, so a failure keeps what succeeded before it."""
    if target == "GPU":
        from ats_ms.process import gpu_libs  # pylint: disable=import-outside-toplevel
        result["preloaded"] = gpu_libs.prepare(log=lambda message: None)
    start = time.perf_counter()
    import numpy as np  # pylint: disable=import-outside-toplevel
    import ats_ms  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(target)
    (ms.Tensor(np.ones(4, np.float32)) + 1).asnumpy()
    result.update(initialised=True, init_s=round(time.perf_counter() - start, 2))
    if not train:
        return
    from ats_ms import cpu_conv  # pylint: disable=import-outside-toplevel
    if target == "CPU":  # the convolution a run would get with runtime.cpu_conv: auto (built on first use)
        result["conv"] = cpu_conv.select("auto", target).detail
    from mindspore import nn  # pylint: disable=import-outside-toplevel
    from ats_ms.distill import FrozenTeacher, LossNet, TrainStep  # pylint: disable=import-outside-toplevel
    from ats_ms.losses import ATSLoss  # pylint: disable=import-outside-toplevel
    from ats_ms.losses.ce import CELoss  # pylint: disable=import-outside-toplevel
    from ats_ms.models import create_model  # pylint: disable=import-outside-toplevel
    rng = np.random.RandomState(0)
    x = ms.Tensor(rng.randn(16, 3, 32, 32).astype(np.float32))
    y = ms.Tensor(rng.randint(0, 10, 16).astype(np.int32))
    cases = (("ce", CELoss(), None), ("ats", ATSLoss(4.0, 2.0), FrozenTeacher(create_model("resnet8", 10))))
    for name, loss, teacher in cases:
        student = create_model("resnet8", 10)
        step = TrainStep(LossNet([student], [loss], teacher), nn.Momentum(student.trainable_params(), 0.01, 0.9))
        step.set_train(True)
        start = time.perf_counter()
        first = float(step(x, y)[0].asnumpy())
        result[f"{name}_first_step_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        second = float(step(x, y)[0].asnumpy())
        result[f"{name}_step_ms"] = round((time.perf_counter() - start) * 1000, 1)
        if not (np.isfinite(first) and np.isfinite(second)):
            raise RuntimeError(f"the {name} step gave a non-finite loss ({first}, {second})")
    result["trained"] = True


def summarize(exc):
    """The first line of MindSpore's error and, when it has one, the reason its device plugin did not load."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else ""
    reasons = []
    if "Device load error message:" in text:
        tail = text.split("Device load error message:", 1)[1]
        reasons = [line.strip() for line in tail.splitlines() if line.strip().startswith("Load dynamic library")]
    return f"{type(exc).__name__}: {first[:300]}" + (" | " + " | ".join(reasons[:3]) if reasons else "")


def main():
    target, train = sys.argv[1], "--train" in sys.argv[2:]
    result = {"target": target, "initialised": False, "trained": False}
    try:
        probe(target, train, result)
    except Exception as exc:  # pylint: disable=broad-except  (reported, not raised: the doctor reads it)
        result["error"] = summarize(exc)
    print("DOCTOR-PROBE " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
