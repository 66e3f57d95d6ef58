"""``python -m ats_ms.benchmark.worker KIND JSON``: one measurement in a process of its own; prints one JSON line.

- ``steps``: the MindSpore measurements (``ats_ms.benchmark.steps``) with one CPU convolution; the process takes
  the instruction-set cap that convolution needs (``ats_ms.process.cpu_isa``) before MindSpore's first operation;
- ``torch``: the PyTorch step (``ats_ms.benchmark.torch_steps``) in the environment the user started with;
- ``students``: one shared-teacher group of K students (``ats_ms.benchmark.students``).
"""
import json
import os
import sys

from ats_ms.process import _env, cpu_isa
from ats_ms.cli import run_cli
from ats_ms.config.schema import Config, RuntimeConfig


def _steps(a):
    from ats_ms.process.startup import prepare_process  # pylint: disable=import-outside-toplevel
    decision = prepare_process(Config(runtime=RuntimeConfig(device_target=a["device"], cpu_conv=a["conv"])))
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms import cpu_conv  # pylint: disable=import-outside-toplevel
    from ats_ms.benchmark.steps import bench_pair, bench_pipeline  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(a["device"])
    choice = cpu_conv.select(a["conv"], a["device"])
    rows = []
    for teacher, student in a["pairs"]:
        for batch in a["batches"]:
            row = bench_pair(teacher, student, batch, a["classes"], a["size"], a["steps"], a["reps"], a["warmup"],
                             fold_bn=a["fold_bn"])
            rows.append(dict(row, conv=choice.name, conv_detail=choice.detail, cpu_isa=decision.describe()))
    return {"rows": rows, "pipeline_images_per_s": bench_pipeline(max(a["batches"])) if a.get("pipeline") else None}


def _torch(a):
    for name, value in _env.USER_VALUES.items():  # this process was started with the user's environment
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    from ats_ms.benchmark.torch_steps import bench_torch  # pylint: disable=import-outside-toplevel
    rows = []
    for teacher, student in a["pairs"]:
        for batch in a["batches"]:
            row = bench_torch(teacher, student, batch, a["classes"], a["size"], a["steps"], a["reps"], a["warmup"],
                              threads=a["threads"])
            rows.append(dict(row, teacher=teacher, student=student, batch=batch,
                             torch_env_cpu_isa=os.environ.get(cpu_isa.VAR) or "unset"))
    return {"rows": rows}


def _students(a):
    from ats_ms.process.startup import prepare_process  # pylint: disable=import-outside-toplevel
    decision = prepare_process(Config(runtime=RuntimeConfig(device_target=a["device"], cpu_conv=a["conv"])))
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms import cpu_conv  # pylint: disable=import-outside-toplevel
    from ats_ms.benchmark.students import measure  # pylint: disable=import-outside-toplevel
    ms.set_device(a["device"])
    conv = cpu_conv.select(a["conv"], a["device"]).name
    teacher, student = a["pair"]
    return dict(measure(teacher, student, a["students"], a["batch"], a["classes"], a["size"], a["steps"], a["reps"],
                        a["warmup"]), conv=conv, cpu_isa=decision.describe())


KINDS = {"steps": _steps, "torch": _torch, "students": _students}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    kind, arguments = argv[0], json.loads(argv[1])
    print(json.dumps(KINDS[kind](arguments)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
