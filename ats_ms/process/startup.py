"""What a command does once it knows its configs and before MindSpore's first operation: the GPU libraries
its device needs (``ats_ms.process.gpu_libs``; MindSpore loads its device plugins once) and the instruction-set cap of
oneDNN on the CPU (``ats_ms.process.cpu_isa``; oneDNN reads it once).  Every command calls ``prepare_process`` here, so
the rule lives in one place."""
from ats_ms.process import cpu_isa
from ats_ms.process.gpu_libs import prepare_for


def prepare_process(cfgs):
    """Prepare this process for training or evaluating ``cfgs`` (a config or a list); returns the ISA Decision."""
    cfgs = list(cfgs) if isinstance(cfgs, (list, tuple)) else [cfgs]
    prepare_for(cfgs[0].runtime.device_target)
    return cpu_isa.decide(cfgs)


def prepare_unless_prepared(cfgs):
    """``prepare_process`` for a run started from Python (``ats_ms.engine.trainer.train``), unless a command or an
    earlier run of this process has already prepared it: the Python API decides per run like the commands."""
    if cpu_isa.current().for_run:
        return cpu_isa.current()
    return prepare_process(cfgs)
