"""What ``python -m ats_ms.launch`` runs: the checked options and the commands they become.

One device runs ``python -m ats_ms.train`` (or ``ats_ms.sweep``) directly.  Several devices or nodes use
MindSpore's own data-parallel engine: ``msrun`` (Ascend, GPU, CPU; it needs a script path, hence the worker
scripts beside this module), ``mpirun`` (GPU clusters with OpenMPI), or an Ascend rank table (one process per
device with ``DEVICE_ID`` / ``RANK_ID`` / ``RANK_TABLE_FILE``, as older Ascend setups require).  Several
devices imply ``runtime.distributed=true``.  Nothing here starts a process, so every command can be shown
(``--dry-run``) and tested.
"""
import os
import shlex
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ats_ms.common.errors import ConfigError

DEVICES = ("CPU", "GPU", "Ascend")
LAUNCHERS = ("msrun", "mpirun", "ranktable")


@dataclass
class LaunchOptions:
    config: Optional[str] = None
    device: Optional[str] = None
    devices: int = 1
    nodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 8118
    launcher: str = "msrun"
    rank_table: Optional[str] = None
    sweep: Optional[str] = None      # ats_ms.sweep arguments in one string, or None for one training
    background: bool = False
    log_dir: Optional[str] = None
    overrides: List[str] = field(default_factory=list)

    @property
    def world(self):
        return self.devices * self.nodes


@dataclass
class Process:
    """One process to start: its command, extra environment, and the file its output goes to (None: inherited)."""
    argv: List[str]
    env: Dict[str, str] = field(default_factory=dict)
    log: Optional[str] = None

    def shown(self):
        """The command as a shell line (what ``--dry-run`` prints)."""
        text = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        text = (text + " " if text else "") + " ".join(shlex.quote(a) for a in self.argv)
        return text + (f" > {shlex.quote(self.log)} 2>&1 &" if self.log else "")


def check(opts):
    """Refuse inconsistent options with a ConfigError naming the flag."""
    if not opts.config:
        raise ConfigError("--config FILE is required (a YAML file, or a shipped config's name from "
                          "python -m ats_ms.configs).")
    if opts.device is not None and opts.device not in DEVICES:
        raise ConfigError(f"--device must be CPU, GPU or Ascend, got '{opts.device}'.")
    if opts.devices < 1:
        raise ConfigError("--devices must be at least 1.")
    if opts.nodes < 1:
        raise ConfigError("--nodes must be at least 1.")
    if not 0 <= opts.node_rank < opts.nodes:
        raise ConfigError(f"--node-rank must be below --nodes ({opts.nodes}), got {opts.node_rank}.")
    if not 1 <= opts.master_port <= 65535:
        raise ConfigError(f"--master-port must be a TCP port, 1 to 65535, got {opts.master_port}.")
    if opts.sweep is not None:
        try:
            shlex.split(opts.sweep)
        except ValueError as exc:
            raise ConfigError(f"--sweep \"{opts.sweep}\" cannot be split into arguments ({exc}): close every quote "
                              "inside it, e.g. --sweep \"--grid optim.lr=0.1,0.2 --shared-teacher\".") from None
    if opts.launcher not in LAUNCHERS:
        raise ConfigError(f"--launcher must be msrun, mpirun or ranktable, got '{opts.launcher}'.")
    if opts.launcher == "ranktable":
        if not opts.rank_table:
            raise ConfigError("--launcher ranktable needs --rank-table FILE (the Ascend rank table JSON).")
        if not os.path.isfile(opts.rank_table):
            raise ConfigError(f"rank table '{opts.rank_table}' does not exist.")


def overrides(opts):
    """The config overrides every process gets: the user's, then the device and data parallelism."""
    result = list(opts.overrides)
    if opts.device:
        result.append(f"runtime.device_target={opts.device}")
    if opts.world > 1:
        result.append("runtime.distributed=true")
    return result


def _command_args(opts):
    """The arguments after ``--config FILE`` of the training (or sweep) command."""
    return (shlex.split(opts.sweep) if opts.sweep is not None else []) + overrides(opts)


def plain_command(opts):
    module = "ats_ms.sweep" if opts.sweep is not None else "ats_ms.train"
    return [sys.executable, "-m", module, "--config", opts.config] + _command_args(opts)


def worker_script(opts):
    """msrun starts a script by path: the worker beside this module."""
    name = "sweep_worker.py" if opts.sweep is not None else "train_worker.py"
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def processes(opts, log_dir):
    """The processes this node starts, in order."""
    train = plain_command(opts)
    if opts.world == 1:
        return [Process(train, log=os.path.join(log_dir, "train.out") if opts.background else None)]
    if opts.launcher == "msrun":
        return [Process(["msrun", f"--worker_num={opts.world}", f"--local_worker_num={opts.devices}",
                         f"--master_addr={opts.master_addr}", f"--master_port={opts.master_port}",
                         f"--node_rank={opts.node_rank}", f"--log_dir={log_dir}", "--join=True",
                         "--cluster_time_out=600", worker_script(opts), "--config", opts.config]
                        + _command_args(opts))]
    if opts.launcher == "mpirun":
        return [Process(["mpirun", "-n", str(opts.world), "--allow-run-as-root", "--output-filename", log_dir,
                         "--merge-stderr-to-stdout"] + train)]
    table = os.path.realpath(opts.rank_table)
    return [Process(train, env={"DEVICE_ID": str(i), "RANK_ID": str(opts.node_rank * opts.devices + i),
                                "RANK_SIZE": str(opts.world), "RANK_TABLE_FILE": table},
                    log=os.path.join(log_dir, f"rank_{opts.node_rank * opts.devices + i}.log"))
            for i in range(opts.devices)]


def notes(opts):
    """Warnings the user should see before the launch."""
    if opts.world > 1 and opts.launcher == "mpirun" and opts.nodes > 1:
        return ["with mpirun on several nodes, pass the hosts through your MPI setup (hostfile / OMPI_MCA_* "
                "variables)"]
    return []
