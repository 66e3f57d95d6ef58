"""The run folder: what lives in it, who may write it, and whether a run in it is new, resumable or done.

    <output_dir>/<name>/
        config.yaml        resolved config (every key, defaults filled in)
        env.json           seed, versions, device, command line, teacher checksum, fork origin
        classes.json       class index -> name
        train.log          human-readable log
        logs/              per-rank logs of multi-device launches (run_train.sh)
        tensorboard/       event files when logging.tensorboard is true
        metrics.jsonl      one JSON object per epoch (evaluation and training accuracy) and the teacher's
        best.ckpt          student weights at the best test top-1
        last.ckpt          student weights after the last finished epoch
        train_state.ckpt   everything needed to resume, and the resolved config it was trained with
        summary.json       written when the run finishes
        .lock              held (flock) by the one process writing the folder

Every other module asks this one for file names and for the run's status, so the rules below live in
one place:

- one writer: an exclusive ``flock`` on ``.lock`` for the whole run; the OS drops it when the process
  dies, so a killed run never leaves a stale lock;
- the training state is the source of truth: on resume, metrics after its step are dropped and
  best/last checkpoints that disagree with it are rewritten from it (``repair``);
- a state is resumed only with a config that means the same experiment (``config_differences``);
- every write goes to a temporary file that is renamed into place; a failed write removes it and
  raises ``RunFolderError`` naming the path and what was kept.
"""
import contextlib
import errno
import hashlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

import yaml

from ats_ms.config import to_dict
from ats_ms.config.schema import Config
from ats_ms.errors import FolderBusy, RunFolderError

try:  # POSIX; MindSpore's training platforms are Linux
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

CONFIG = "config.yaml"
ENV = "env.json"
CLASSES = "classes.json"
LOG = "train.log"
METRICS = "metrics.jsonl"
BEST = "best.ckpt"
LAST = "last.ckpt"
STATE = "train_state.ckpt"
SUMMARY = "summary.json"
LOCK = ".lock"
TEMP_MARK = ".tmp-"
LOGS = "logs"               # per-rank logs of run_train.sh / msrun, created before the workers start
TENSORBOARD = "tensorboard"

# Keys a saved training state depends on: resuming with one of them changed would continue another
# experiment under the old name, so it is refused and every difference is named.  ``teacher.checkpoint``
# is compared by content (its SHA-256), ``schedule.epochs`` by the rule in ``epochs_change``; every other
# key (logging, evaluation interval, device, paths of data, workers, ...) may change and is logged.
STATE_KEYS = (
    "experiment.seed",
    "data.name", "data.image_size", "data.mean", "data.std", "data.augment", "data.hflip", "data.crop_padding",
    "data.batch_size", "data.train_samples", "data.test_samples", "data.speech_task", "data.speech_split",
    "model.arch", "model.pretrained", "model.num_classes", "model.checkpoint", "model.padding", "model.conv_bias",
    "teacher.arch", "teacher.padding", "teacher.conv_bias", "teacher.mean", "teacher.std",
    "distill.*", "optim.*", "schedule.*",
)
NOT_STATE_KEYS = ("distill.cache_teacher_logits", "schedule.epochs")
IDENTITY_KEYS = ("experiment.name", "experiment.output_dir", "checkpoint.resume", "teacher.checkpoint")


def path(run_dir, name):
    return os.path.join(run_dir, name)


# -- writing -------------------------------------------------------------------------------------------

# What to do about a failed write, by the OS error's own cause.
WRITE_FIXES = {
    errno.ENOSPC: "Free space on that disk, then run the same command with --resume.",
    errno.EDQUOT: "Your disk quota is used up: free space, then run the same command with --resume.",
    errno.EACCES: "The folder is not writable by you: fix its permissions or choose another experiment.output_dir.",
    errno.EPERM: "The folder is not writable by you: fix its permissions or choose another experiment.output_dir.",
    errno.EROFS: "That file system is read-only: choose another experiment.output_dir.",
    errno.ENAMETOOLONG: "The path is longer than the file system allows: shorten experiment.name or "
                        "experiment.output_dir.",
    errno.ENOTDIR: "A part of that path is a file, not a folder: choose another experiment.output_dir.",
    errno.EISDIR: "That path is a folder: move it away or choose another name.",
}


@contextlib.contextmanager
def guarded_write(final_path, kept="the files written before it are unchanged"):
    """Turn an OSError (disk full, read-only folder, a name too long ...) into one ``RunFolderError`` that names
    the OS error's cause and its fix; ``kept`` says what is left as it was."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fix = WRITE_FIXES.get(exc.errno, "Remove the cause, then run the same command with --resume.")
        raise RunFolderError(f"Could not write '{final_path}' ({reason}). Nothing was half-written: {kept}. "
                             f"{fix}") from None


def write_atomic(final_path, write_tmp, kept="the existing files are unchanged"):
    """``write_tmp(tmp_path)`` writes the content; it is renamed into place only when complete."""
    folder = os.path.dirname(os.path.abspath(final_path))
    prefix = f"{TEMP_MARK}{os.getpid()}-"
    tmp = os.path.join(folder, prefix + os.path.basename(final_path))
    with guarded_write(final_path, kept):
        try:
            write_tmp(tmp)
            os.replace(tmp, final_path)
        except BaseException:
            # the writer may have made temporary files of its own from our name (MindSpore writes
            # '<name>.tmp' before renaming it to '<name>.ckpt')
            stem = os.path.splitext(os.path.basename(final_path))[0]
            for name in os.listdir(folder):
                if name.startswith(prefix + stem):
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(folder, name))
            raise


def write_text_atomic(file_path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    write_atomic(file_path, write)


def write_json(file_path, obj):
    write_text_atomic(file_path, json.dumps(obj, indent=2) + "\n")


def append_jsonl(file_path, obj):
    with guarded_write(file_path, "the earlier lines are unchanged"):
        with open(file_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")


def remove_temp_files(run_dir):
    """Temporary files left by a process killed in the middle of a write (never a real file)."""
    if os.path.isdir(run_dir):
        for name in os.listdir(run_dir):
            if name.startswith(TEMP_MARK):
                with contextlib.suppress(OSError):
                    os.remove(path(run_dir, name))


def file_sha256(file_path):
    h = hashlib.sha256()
    with open(file_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions():
    import platform  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    import ats_ms  # pylint: disable=import-outside-toplevel
    return {"ats_ms": ats_ms.__version__, "mindspore": ms.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def write_run_files(run_dir, cfg, class_names, extra_env):
    write_text_atomic(path(run_dir, CONFIG), yaml.safe_dump(to_dict(cfg), sort_keys=False))
    env = {"seed": cfg.experiment.seed, "versions": versions(), "argv": sys.argv,
           "env": {k: os.environ.get(k) for k in ("ONEDNN_MAX_CPU_ISA", "GLOG_v", "RANK_ID", "RANK_SIZE")}}
    env.update(extra_env)
    write_json(path(run_dir, ENV), env)
    write_json(path(run_dir, CLASSES), {str(i): n for i, n in enumerate(class_names)})


# -- one writer ------------------------------------------------------------------------------------------

def _holder_text(info):
    if not info:
        return "another process"
    return (f"process {info.get('pid')} on host {info.get('host')} (started {info.get('started')}: "
            f"{info.get('command')})")


def _read_holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 65536).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _busy_error(run_dir, info):
    return FolderBusy(f"Run folder '{run_dir}' is in use by {_holder_text(info)}. Two processes writing one "
                      "run folder would mix their configs, metrics and checkpoints, so this one stops. Wait for "
                      "that process to finish (or stop it), or choose another experiment.name. The lock is "
                      "released automatically when the holding process ends, even if it is killed.",
                      f"process {info.get('pid')}" if info.get("pid") else "another process")


class RunLock:
    """Exclusive, non-blocking ``flock`` on ``<run_dir>/.lock`` for the life of a run."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.fd = None

    def acquire(self):
        if fcntl is None:  # pragma: no cover
            return self
        with guarded_write(path(self.run_dir, LOCK), "no file of the run was written"):
            os.makedirs(self.run_dir, exist_ok=True)
            fd = os.open(path(self.run_dir, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            info = _read_holder(fd)
            os.close(fd)
            raise _busy_error(self.run_dir, info) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode("utf-8"))
        self.fd = fd
        return self

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def holder(run_dir):
    """Who holds the folder's lock ('process N'), or None when nobody does."""
    try:
        check_not_busy(run_dir)
    except FolderBusy as exc:
        return exc.holder
    return None


def check_not_busy(run_dir):
    """Fail fast, before any work, when another process holds the folder (a shared-lock probe)."""
    lock_path = path(run_dir, LOCK)
    if fcntl is None or not os.path.exists(lock_path):
        return
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        raise _busy_error(run_dir, _read_holder(fd)) from None
    finally:
        os.close(fd)


# -- reading what is there --------------------------------------------------------------------------------

def read_summary(run_dir):
    """(summary dict or None, problem text or None): a corrupt or foreign summary is a problem, not a crash."""
    file_path = path(run_dir, SUMMARY)
    if not os.path.exists(file_path):
        return None, None
    try:
        with open(file_path, encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, f"'{file_path}' cannot be read ({type(exc).__name__})"
    if not isinstance(summary, dict) or not isinstance(summary.get("best_top1"), (int, float)) \
            or not isinstance(summary.get("epochs"), int):
        return None, f"'{file_path}' is not an ats_ms run summary (best_top1 / epochs missing)"
    return summary, None


def read_saved_config(run_dir):
    file_path = path(run_dir, CONFIG)
    if not os.path.exists(file_path):
        return None
    try:
        with open(file_path, encoding="utf-8") as f:
            saved = yaml.safe_load(f)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return saved if isinstance(saved, dict) else None


def run_files(run_dir):
    """The folder's entries, ignoring the lock, temporary files and the launcher's log folder."""
    if not os.path.isdir(run_dir):
        return []
    return sorted(n for n in os.listdir(run_dir) if n not in (LOCK, LOGS) and not n.startswith(TEMP_MARK))


def holds_run(run_dir):
    names = set(run_files(run_dir))
    return bool(names & {CONFIG, STATE, SUMMARY})


# -- comparing configs ------------------------------------------------------------------------------------

def _flat(cfg_dict):
    defaults = to_dict(Config())
    flat = {}
    for section, keys in defaults.items():
        given = (cfg_dict or {}).get(section) or {}
        for key, default in keys.items():
            flat[f"{section}.{key}"] = given.get(key, default) if isinstance(given, dict) else default
    return flat


def _is_state_key(key):
    if key in NOT_STATE_KEYS:
        return False
    section = key.split(".")[0]
    return key in STATE_KEYS or f"{section}.*" in STATE_KEYS


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@dataclass
class Differences:
    blocking: List[str] = field(default_factory=list)   # "key: old -> new"
    harmless: List[str] = field(default_factory=list)
    epochs: Optional[tuple] = None                       # (saved, requested) when they differ

    def describe_blocking(self):
        return "; ".join(self.blocking)


def config_differences(saved, requested):
    """Compare two resolved configs (dicts).  ``teacher.checkpoint`` is left to the caller (by content)."""
    old, new = _flat(saved), _flat(requested)
    diff = Differences()
    for key in new:
        if _same(old[key], new[key]) or key in IDENTITY_KEYS:
            continue
        text = f"{key}: {old[key]!r} -> {new[key]!r}"
        if key == "schedule.epochs":
            diff.epochs = (old[key], new[key])
        elif _is_state_key(key):
            diff.blocking.append(text)
        else:
            diff.harmless.append(text)
    return diff


def state_config_json(cfg):
    """The resolved config stored inside every training state, so a state file is self-describing."""
    return json.dumps(to_dict(cfg), sort_keys=True)


# -- what to do with a folder -------------------------------------------------------------------------------

@dataclass
class RunPlan:
    kind: str                            # "new" | "resume" | "complete"
    run_dir: str
    state_path: Optional[str] = None
    forked_from: Optional[str] = None
    summary: Optional[dict] = None
    restart: bool = False                # a folder whose first attempt died before saving any state
    notes: List[str] = field(default_factory=list)


def _describe_existing(run_dir):
    summary, _ = read_summary(run_dir)
    if summary:
        return (f"a finished run (best top-1 {summary['best_top1']:.2f}, last "
                f"{summary.get('last_top1') if summary.get('last_top1') is None else round(summary['last_top1'], 2)}, "
                f"{summary['epochs']} epochs)")
    return "a run" + (" with a saved training state" if os.path.exists(path(run_dir, STATE)) else "")


def plan_run(run_dir, cfg, check_lock=True, peer=False):
    """Decide, without writing anything, whether ``cfg`` starts, resumes or finds complete the run in
    ``run_dir``.  Raises ``RunFolderError`` for every case that would mix two runs.

    ``peer``: a data-parallel rank other than 0.  Rank 0 alone checks and writes the folder; a peer only
    needs to know whether to resume, and must not mistake rank 0's fresh files for another run."""
    if peer:
        return _peer_plan(run_dir, cfg)
    if check_lock:
        check_not_busy(run_dir)
    mode = cfg.checkpoint.resume
    requested = to_dict(cfg)
    files = run_files(run_dir)
    if mode == "none":
        if holds_run(run_dir):
            raise RunFolderError(f"Run folder '{run_dir}' already holds {_describe_existing(run_dir)}. Continue it with "
                                 "--resume (checkpoint.resume=auto), or choose another experiment.name / "
                                 "experiment.output_dir. Nothing was changed.")
        if files:
            raise RunFolderError(f"'{run_dir}' exists and holds files that are not an ats_ms run ({', '.join(files[:3])}"
                                 f"{', ...' if len(files) > 3 else ''}). Choose another experiment.name or "
                                 "experiment.output_dir; ats_ms does not write into other folders.")
        return RunPlan("new", run_dir)
    own_state = path(run_dir, STATE)
    if mode != "auto" and os.path.realpath(os.path.dirname(os.path.abspath(mode))) != os.path.realpath(run_dir):
        if files:
            raise RunFolderError(f"checkpoint.resume points at '{mode}', a state of another run folder, but the target "
                                 f"'{run_dir}' is not empty. A state is resumed only into its own run folder, or "
                                 "into a new, empty one (a fork). Set experiment.name to a new name to fork it, or "
                                 "use --resume to continue the run in its own folder.")
        return RunPlan("resume", run_dir, state_path=mode, forked_from=os.path.abspath(mode))
    state_path = own_state if mode == "auto" else mode
    summary, problem = read_summary(run_dir)
    saved = read_saved_config(run_dir)
    notes = [f"ignoring {problem}; the run is treated as unfinished"] if problem else []
    if summary is not None and saved is not None:
        diff = config_differences(saved, requested)
        if diff.blocking:
            raise RunFolderError(f"Run folder '{run_dir}' holds a finished run trained with another config: "
                                 f"{diff.describe_blocking()}. Its results are kept as they are; use another "
                                 "experiment.name for the new setting.")
        if diff.epochs is None or diff.epochs[1] == summary["epochs"]:
            return RunPlan("complete", run_dir, summary=summary, notes=notes)
        if diff.epochs[1] < summary["epochs"]:
            raise RunFolderError(f"Run folder '{run_dir}' holds a run finished at {summary['epochs']} epochs; "
                                 f"schedule.epochs={diff.epochs[1]} would mean training backwards. Its results are "
                                 "kept; use another experiment.name.")
        notes.append(f"the run finished {summary['epochs']} epochs; continuing to {diff.epochs[1]} as the config asks")
    if os.path.exists(state_path):
        return RunPlan("resume", run_dir, state_path=state_path, notes=notes)
    if summary is not None:
        raise RunFolderError(f"Run folder '{run_dir}' holds a finished run but its training state "
                             f"'{state_path}' is missing, so it cannot be continued. Its results are kept; use "
                             "another experiment.name.")
    if files and saved is None:
        raise RunFolderError(f"'{run_dir}' exists and holds files that are not an ats_ms run ({', '.join(files[:3])}). "
                             "Choose another experiment.name or experiment.output_dir.")
    if saved is not None:
        diff = config_differences(saved, requested)
        notes.append("the folder's earlier attempt ended before its first saved state; starting it over"
                     + (f" (config changes: {diff.describe_blocking()})" if diff.blocking else ""))
        return RunPlan("new", run_dir, restart=True, notes=notes)
    return RunPlan("new", run_dir, notes=notes)


def _peer_plan(run_dir, cfg):
    mode = cfg.checkpoint.resume
    if mode == "none":
        return RunPlan("new", run_dir)
    summary = finished_summary(run_dir, cfg)
    if summary is not None:
        return RunPlan("complete", run_dir, summary=summary)
    state_path = path(run_dir, STATE) if mode == "auto" else mode
    if os.path.exists(state_path):
        forked = None if os.path.realpath(os.path.dirname(os.path.abspath(state_path))) == os.path.realpath(run_dir) \
            else os.path.abspath(state_path)
        return RunPlan("resume", run_dir, state_path=state_path, forked_from=forked)
    return RunPlan("new", run_dir)


def finished_summary(run_dir, cfg):
    """The summary of ``run_dir`` if it holds a run finished with exactly this experiment, else None
    (used by sweep and chain to skip work)."""
    summary, _ = read_summary(run_dir)
    saved = read_saved_config(run_dir)
    if summary is None or saved is None:
        return None
    diff = config_differences(saved, to_dict(cfg))
    if diff.blocking or (diff.epochs is not None and diff.epochs[1] != summary["epochs"]):
        return None
    return summary


def describe_status(run_dir, cfg, peer=False):
    """One word for listings (sweep --dry-run): finished, resume, new, busy, conflict.  A data-parallel peer
    (rank > 0) ignores the lock, which rank 0 holds while it writes."""
    try:
        if not peer:
            check_not_busy(run_dir)
    except RunFolderError:
        return "busy"
    if finished_summary(run_dir, cfg) is not None:
        return "finished"
    if os.path.exists(path(run_dir, STATE)):
        return "resume"
    return "conflict" if holds_run(run_dir) and read_summary(run_dir)[0] else "new"


# -- bringing derived files in line with the state -----------------------------------------------------------

def trim_metrics(run_dir, step):
    """Keep the teacher's evaluation and every epoch record up to ``step``; drop the rest (records of epochs
    that the resumed run will train again).  Returns the kept epoch records."""
    file_path = path(run_dir, METRICS)
    if not os.path.exists(file_path):
        return []
    kept_lines, records = [], []
    with open(file_path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash
            if record.get("type") == "teacher_eval" or int(record.get("step", 0)) <= step:
                kept_lines.append(json.dumps(record))
                if record.get("type") != "teacher_eval":
                    records.append(record)
    write_text_atomic(file_path, "".join(line + "\n" for line in kept_lines))
    return records
