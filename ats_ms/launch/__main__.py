"""``python -m ats_ms.launch``: train on one device, several devices, or several nodes.

    python -m ats_ms.launch --config FILE [options] [-- section.key=value ...]

e.g. ImageNet ResNet-34 -> ResNet-18 with ATS on 2 nodes x 8 Ascend devices (run on each node, its own rank):

    python -m ats_ms.launch --config imagenet/kd_benchmark/resnet34_to_resnet18/ats --device Ascend --devices 8 \\
        --nodes 2 --node-rank 0 --master-addr 10.0.0.1 -- data.root=/data/imagenet

Several devices imply runtime.distributed=true: data parallel with gradient averaging, the dataset sharded by
rank, the teacher replicated and frozen on every rank, files written by rank 0 only.  ``bash run_train.sh``
in a checkout runs this command with the same arguments.
"""
import argparse
import os
import re
import signal
import subprocess
import sys

from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.common.errors import ConfigError
from ats_ms.launch import launch_plan as lp


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are ConfigErrors (one paragraph, exit 2) and point at '--' for overrides."""

    def error(self, message):
        message = re.sub(r"^argument (--[\w-]+): ", r"\1 ", message)
        if "unrecognized arguments" in message:
            message += " (config overrides go after '--', e.g. -- optim.lr=0.1)"
        raise ConfigError(f"{message}. Run 'python -m ats_ms.launch --help' for the options.")


def _count(text):
    def parse(value):
        if not value.isdigit():
            raise argparse.ArgumentTypeError(f"must be a whole number, got '{value}'")
        return int(value)
    parse.__name__ = text
    return parse


def build_parser():
    p = _Parser(prog="python -m ats_ms.launch", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config, or a shipped config's name (required)")
    p.add_argument("--device", help="CPU | GPU | Ascend (sets runtime.device_target; default: the config's)")
    p.add_argument("--devices", type=_count("--devices"), default=1, help="devices (worker processes) per node")
    p.add_argument("--nodes", type=_count("--nodes"), default=1, help="number of nodes")
    p.add_argument("--node-rank", type=_count("--node-rank"), default=0, help="this node's rank, 0..nodes-1")
    p.add_argument("--master-addr", default="127.0.0.1", help="address of node 0")
    p.add_argument("--master-port", type=_count("--master-port"), default=8118, help="scheduler port on node 0")
    p.add_argument("--launcher", default="msrun",
                   help="msrun (default; Ascend, GPU, CPU) | mpirun (GPU clusters with OpenMPI) | ranktable (older "
                        "Ascend setups: DEVICE_ID/RANK_ID/RANK_TABLE_FILE per process)")
    p.add_argument("--rank-table", help="the Ascend rank table JSON (with --launcher ranktable)")
    p.add_argument("--sweep", metavar="ARGS",
                   help="run ats_ms.sweep with these arguments instead of one training, e.g. --sweep \"--grid "
                        "distill.tau_wrong=1,2,4 --shared-teacher\" (several devices train each point data-parallel)")
    p.add_argument("--background", action="store_true", help="one device: run detached, output to <run dir>/logs/train.out")
    p.add_argument("--log-dir", help="per-rank logs (default: <run dir>/logs)")
    p.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    return p


def parse(argv):
    """(LaunchOptions, dry_run); the words after '--' are config overrides."""
    argv = list(argv)
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = build_parser().parse_args(argv)
    opts = lp.LaunchOptions(config=args.config, device=args.device, devices=args.devices, nodes=args.nodes,
                            node_rank=args.node_rank, master_addr=args.master_addr, master_port=args.master_port,
                            launcher=args.launcher, rank_table=args.rank_table, sweep=args.sweep,
                            background=args.background, log_dir=args.log_dir, overrides=extra)
    return opts, args.dry_run


def _start(process):
    """Start one process whose output goes to its log file."""
    try:
        out = open(process.log, "ab")  # pylint: disable=consider-using-with
    except OSError as exc:
        raise ConfigError(f"Cannot write the log file '{process.log}' ({exc.strerror}); nothing was started. Choose "
                          "a writable --log-dir.") from None
    with out:
        return subprocess.Popen(process.argv, env=dict(os.environ, **process.env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _what_train_would_do(cfg):
    """For one training (not a sweep): a finished run is reported and nothing starts; a run folder training would
    refuse is refused here, before anything goes to the background or to other processes."""
    from ats_ms.engine.run_plan import plan_run  # pylint: disable=import-outside-toplevel
    run_dir = os.path.join(cfg.experiment.output_dir, cfg.experiment.name)
    plan = plan_run(run_dir, cfg)
    return run_dir, plan.kind


MINDSPORE_LOG_LINE = re.compile(r"^\[(DEBUG|INFO|WARNING)\] [A-Z_]+\(\d+,")
LEVELS = {"DEBUG": 0, "INFO": 1, "WARNING": 2}


def _quiet(line, glog_v):
    """A MindSpore C++ log line below the level GLOG_v asks for (MindSpore's workers print a few such lines while
    shutting down their communication, whatever GLOG_v says); the workers' log files keep them."""
    match = MINDSPORE_LOG_LINE.match(line)
    return bool(match) and LEVELS[match.group(1)] < glog_v


def _run_filtered(argv):
    """Run a launcher (msrun, mpirun) and pass its output on, without MindSpore's log lines below GLOG_v."""
    try:
        glog_v = int(os.environ.get("GLOG_v", "2"))
    except ValueError:
        glog_v = 2
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            errors="replace")
    try:
        for line in proc.stdout:
            if not _quiet(line, glog_v):
                sys.stdout.write(line)
                sys.stdout.flush()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
    return proc.wait()


def main(argv=None):
    opts, dry_run = parse(sys.argv[1:] if argv is None else argv)
    lp.check(opts)
    cfg = load_config(opts.config, lp.overrides(opts))  # the whole config checked before anything starts
    if opts.sweep is None and not dry_run:
        run_dir, kind = _what_train_would_do(cfg)
        if kind == "complete":
            print(f"{run_dir} is already complete; nothing was started (python -m ats_ms.report {run_dir} shows it).")
            return 0
    log_dir = opts.log_dir or os.path.join(cfg.experiment.output_dir, cfg.experiment.name, "logs")
    todo = lp.processes(opts, log_dir)
    for note in lp.notes(opts):
        print(f"ats_ms.launch: {note}", file=sys.stderr)
    if dry_run:
        for process in todo:
            print(("nohup " if opts.background and opts.world == 1 else "") + process.shown())
        return 0
    if opts.world > 1 or opts.background:
        try:
            os.makedirs(log_dir, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot create the log folder '{log_dir}' ({exc.strerror}); nothing was started. "
                              "Choose a writable --log-dir.") from None
    if opts.world == 1 and not opts.background:
        os.execv(sys.executable, todo[0].argv)
    if opts.world == 1:
        child = _start(todo[0])
        print(f"started in the background (pid {child.pid}); log: {todo[0].log}")
        return 0
    if opts.launcher == "ranktable":
        children = [_start(p) for p in todo]
        codes = [child.wait() for child in children]
        print(f"per-rank logs: {os.path.join(log_dir, 'rank_*.log')}")
        return next((c for c in codes if c), 0)
    try:
        code = _run_filtered(todo[0].argv)
        if code:
            print(f"\nats_ms.launch: {todo[0].argv[0]} exited with code {code}; each process's log is in {log_dir}"
                  + (" (scheduler.log, worker_*.log)" if opts.launcher == "msrun" else ""), file=sys.stderr)
        return code
    except FileNotFoundError:
        raise ConfigError(f"'{todo[0].argv[0]}' is not on PATH. msrun comes with MindSpore (pip install mindspore); "
                          "mpirun with OpenMPI.") from None


if __name__ == "__main__":
    sys.exit(run_cli(main))
