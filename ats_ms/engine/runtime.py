"""Device, execution mode and (for multi-device launches) the data-parallel context."""
import os
from dataclasses import dataclass

import mindspore as ms

from ats_ms import cpu_conv
from ats_ms.process import cpu_isa
from ats_ms.common.errors import ConfigError


@dataclass
class Runtime:
    rank: int = 0
    group_size: int = 1
    convolution: str = "MindSpore built-in"  # which CPU convolution the networks run (ats_ms.cpu_conv)

    @property
    def is_main(self):
        return self.rank == 0


def distributed_device_id(env=None):
    """The device a data-parallel worker must use, by launcher.  ``mindspore.set_device`` with no id
    negotiates one only under msrun; under any other launcher it takes device 0 (MindSpore's documentation
    of ``set_device``), which would put every worker of a node on the same device.

    - msrun (``MS_ROLE`` / ``MS_WORKER_NUM`` set): None, MindSpore negotiates;
    - rank table (``DEVICE_ID`` set by the launcher, as Ascend rank-table launches require): that id;
    - mpirun (OpenMPI's ``OMPI_COMM_WORLD_LOCAL_RANK``): the local rank.
    """
    env = os.environ if env is None else env
    if env.get("MS_ROLE") or env.get("MS_WORKER_NUM"):
        return None
    for var in ("DEVICE_ID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"):
        if env.get(var, "").isdigit():
            return int(env[var])
    return None


def launched_by_a_launcher(env=None):
    """True in a worker that msrun, mpirun or a rank table started (their environment variables are set)."""
    env = os.environ if env is None else env
    return any(env.get(v) for v in ("MS_ROLE", "MS_WORKER_NUM", "OMPI_COMM_WORLD_RANK", "RANK_TABLE_FILE"))


def refuse_compile_cache(env=None):
    """MindSpore's compile cache keys a graph by the network's source files, not by the constants compiled
    into it: with it on, an ATS run (tau_wrong 2) started after a TS run (tau_wrong 4) of the same networks
    loaded the TS graph and trained as TS (measured with MindSpore 2.10: same accuracy to the last digit,
    another without the cache).  Temperatures, weights and methods are such constants here, so it is refused."""
    env = os.environ if env is None else env
    if env.get("MS_COMPILER_CACHE_ENABLE", "").strip().lower() in ("1", "true", "on", "yes"):
        raise ConfigError("MS_COMPILER_CACHE_ENABLE is set, and MindSpore's compile cache reuses a graph compiled for "
                          "other settings of the same networks (an ATS run started after a TS run trained as TS). "
                          "Unset MS_COMPILER_CACHE_ENABLE; each run compiles its own graphs in a few seconds.")


def _set_device(cfg_runtime):
    """``mindspore.set_device`` for the run.  MindSpore fixes the device at its first operation: a process that
    already ran one (an eager loss, a network called from Python) keeps that device, which is fine when it is
    the one the run asks for and an error naming both otherwise."""
    wanted = cfg_runtime.device_target
    device_id = distributed_device_id() if cfg_runtime.distributed else cfg_runtime.device_id
    try:
        ms.set_device(wanted, device_id)
    except (RuntimeError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "has been initialized" not in message:
            raise ConfigError(f"runtime.device_target '{wanted}' cannot be used here ({message}). Use CPU, or install "
                              "the MindSpore build for that device.") from None
        running = ms.get_context("device_target")
        running_id = ms.get_context("device_id")
        if running == wanted and (device_id is None or wanted == "CPU" or running_id == device_id):
            return
        raise ConfigError(f"MindSpore already runs on {running} (device {running_id}) in this process: an operation "
                          f"ran before this run started, and that fixes the device, but the run asks for "
                          f"runtime.device_target '{wanted}'" + (f" device {device_id}" if device_id is not None else "")
                          + ". Start the run before any other MindSpore operation of the process (or in a new "
                          "process), or set runtime.device_target to the device already in use.") from None


def setup_runtime(cfg_runtime, cpu_conv_mode=None):
    """Apply ``runtime.*``; under ``runtime.distributed`` initialise communication and switch to
    DATA_PARALLEL with gradient averaging.  Networks built afterwards run the convolution chosen by
    ``runtime.cpu_conv`` (``cpu_conv_mode`` overrides it: export writes MindSpore's own)."""
    refuse_compile_cache()
    mode = ms.GRAPH_MODE if cfg_runtime.mode == "graph" else ms.PYNATIVE_MODE
    ms.set_context(mode=mode)
    _set_device(cfg_runtime)
    choice = cpu_conv.select(cpu_conv_mode or cfg_runtime.cpu_conv, cfg_runtime.device_target)
    convolution = choice.detail
    if cfg_runtime.device_target == "CPU" and not choice.fast and cpu_isa.slow_for_mindspore_convolution():
        convolution += (f"; WARNING: oneDNN runs {cpu_isa.in_force_name()} in this process, where MindSpore's "
                        "convolution takes oneDNN's reference kernel (very slow): run in a new process with "
                        "ONEDNN_MAX_CPU_ISA unset (ats_ms then caps it at AVX2) or exported as AVX2")
    if not cfg_runtime.distributed:
        return Runtime(convolution=convolution)
    from mindspore.communication import get_group_size, get_rank, init  # pylint: disable=import-outside-toplevel
    try:
        init()
    except Exception as exc:  # pylint: disable=broad-except
        cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if launched_by_a_launcher():
            raise ConfigError(f"runtime.distributed=true and this worker was started by a launcher, but the "
                              f"communication backend did not start ({cause}). Check the scheduler's address and port "
                              "(--master-addr / --master-port of python -m ats_ms.launch: reachable, free, 1-65535) "
                              "and the other workers' logs.") from None
        raise ConfigError(f"runtime.distributed=true but the communication backend did not start ({cause}). Launch "
                          "through python -m ats_ms.launch --devices N (msrun / mpirun / rank table; bash "
                          "run_train.sh in a checkout), which sets up the worker environment.") from None
    size = get_group_size()
    ms.reset_auto_parallel_context()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=size)
    return Runtime(rank=get_rank(), group_size=size, convolution=convolution)


RECOMMENDED_AMP = {"CPU": "O0", "GPU": "O2", "Ascend": "O3"}


def amp_level(cfg_runtime):
    """``auto`` -> MindSpore's recommendation per device: fp32 on CPU (AMP is slower there), O2 on GPU,
    O3 on Ascend."""
    if cfg_runtime.amp_level == "auto":
        return RECOMMENDED_AMP[cfg_runtime.device_target]
    return cfg_runtime.amp_level

