"""The run folder's layout and its atomic writes (who may write a folder: ``run_lock``; whether a config starts,
resumes or finds finished the run in it: ``run_plan``).

    <output_dir>/<name>/
        config.yaml        resolved config (every key, defaults filled in)
        env.json           seed, versions, device, command line, teacher checksum, fork origin
        classes.json       class index -> name
        train.log          human-readable log
        logs/              per-rank logs of multi-device launches (python -m ats_ms.launch)
        tensorboard/       event files when logging.tensorboard is true
        metrics.jsonl      one JSON object per epoch (evaluation and training accuracy) and the teacher's
        best.ckpt          student weights at the best test top-1
        last.ckpt          student weights after the last finished epoch
        train_state.ckpt   everything needed to resume, and the resolved config it was trained with
        summary.json       written when the run finishes
        .lock              held (flock) by the one process writing the folder

Every other module asks this one for file names and writes through it, so the rules below live in one
place (who may write a folder: ``run_lock``; whether a config starts, resumes or finds finished the run in
it: ``run_plan``):

- the training state is the source of truth: on resume, metrics after its step are dropped and
  best/last checkpoints that disagree with it are rewritten from it (``member_io.repair``);
- every write goes to a temporary file that is renamed into place; a failed write removes it and
  raises ``RunFolderError`` naming the path and what was kept.
"""
import contextlib
import errno
import hashlib
import json
import os
import tempfile
import sys

import yaml

from ats_ms.config import to_dict
from ats_ms.config.paths import with_absolute_paths
from ats_ms.config.saved import migrate_saved
from ats_ms.common.errors import RunFolderError

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
LOGS = "logs"               # per-rank logs of python -m ats_ms.launch / msrun, created before the workers start
TENSORBOARD = "tensorboard"

def path(run_dir, name):
    return os.path.join(run_dir, name)


# -- writing -------------------------------------------------------------------------------------------

# What to do about a failed write, by the OS error's own cause ({again}: how to continue; {where}: the key or
# option that chooses the folder).
WRITE_FIXES = {
    errno.ENOSPC: "Free space on that disk, then {again}.",
    errno.EDQUOT: "Your disk quota is used up: free space, then {again}.",
    errno.EFBIG: "The file system refused a file this large (a file-size limit): raise the limit or choose another "
                 "{where}, then {again}.",
    errno.EACCES: "The folder is not writable by you: fix its permissions or choose another {where}.",
    errno.EPERM: "The folder is not writable by you: fix its permissions or choose another {where}.",
    errno.EROFS: "That file system is read-only: choose another {where}.",
    errno.ENAMETOOLONG: "The path is longer than the file system allows: shorten it (experiment.name or {where}).",
    errno.ENOTDIR: "A part of that path is a file, not a folder: choose another {where}.",
    errno.EISDIR: "That path is a folder: move it away or choose another name.",
}
RUN_FOLDER_WRITES = {"again": "run the same command with --resume", "where": "experiment.output_dir"}


@contextlib.contextmanager
def guarded_write(final_path, kept="the files written before it are unchanged", advice=None):
    """Turn an OSError (disk full, read-only folder, a name too long ...) into one ``RunFolderError`` that names
    the OS error's cause and its fix; ``kept`` says what is left as it was.  ``advice``: {"again": ...,
    "where": ...} for writes outside a run folder (the default speaks of --resume and experiment.output_dir)."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        words = dict(RUN_FOLDER_WRITES, **(advice or {}))
        fix = WRITE_FIXES.get(exc.errno, "Remove the cause, then {again}.").format(**words)
        raise RunFolderError(f"Could not write '{final_path}' ({reason}). Nothing was half-written: {kept}. "
                             f"{fix}") from None


def check_output_folder_writable(folder, flag="--output", advice=None):
    """Before any work: ``folder`` (existing or to be created) must be a folder this process can write into.
    Probes the folder, or the nearest existing folder above it, with a temporary file it removes again."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise RunFolderError(f"{flag} '{folder}' is a file; it must be a folder (created if missing). Nothing was "
                             "computed.")
    probe_in = os.path.abspath(folder)
    while not os.path.isdir(probe_in):
        parent = os.path.dirname(probe_in)
        if os.path.exists(probe_in) or parent == probe_in:
            raise RunFolderError(f"{flag} '{folder}' cannot be created: '{probe_in}' is not a folder. Nothing was "
                                 "computed.")
        probe_in = parent
    with guarded_write(folder, "nothing was computed", dict({"again": "run the command again", "where": flag},
                                                           **(advice or {}))):
        fd, name = tempfile.mkstemp(prefix=".ats_ms-probe-", dir=probe_in)
        os.close(fd)
        os.unlink(name)


def _current_umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


UMASK = _current_umask()  # read once: os.umask can only be read by setting it


def make_ordinary(file_path):
    """Give a file the mode any new file of this process gets (0666 less the umask).  MindSpore writes checkpoints
    and exported models read-only (0400), which makes a plain ``rm`` of a run folder ask about each one."""
    os.chmod(file_path, 0o666 & ~UMASK)


def write_atomic(final_path, write_tmp, kept="the existing files are unchanged"):
    """``write_tmp(tmp_path)`` writes the content; it is renamed into place, as an ordinary file, only when
    complete."""
    folder = os.path.dirname(os.path.abspath(final_path))
    prefix = f"{TEMP_MARK}{os.getpid()}-"
    tmp = os.path.join(folder, prefix + os.path.basename(final_path))
    with guarded_write(final_path, kept):
        try:
            write_tmp(tmp)
            make_ordinary(tmp)
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
    write_text_atomic(path(run_dir, CONFIG), yaml.safe_dump(with_absolute_paths(to_dict(cfg)), sort_keys=False))
    from ats_ms.process import cpu_isa  # pylint: disable=import-outside-toplevel
    env = {"seed": cfg.experiment.seed, "versions": versions(), "argv": sys.argv,
           "env": {k: os.environ.get(k) for k in (cpu_isa.VAR, "GLOG_v", "RANK_ID", "RANK_SIZE")},
           "cpu_isa": cpu_isa.current().describe() if cfg.runtime.device_target == "CPU" else None}
    env.update(extra_env)
    write_json(path(run_dir, ENV), env)
    write_json(path(run_dir, CLASSES), {str(i): n for i, n in enumerate(class_names)})


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
    return migrate_saved(saved) if isinstance(saved, dict) else None


def run_files(run_dir):
    """The folder's entries, ignoring the lock, temporary files and the launcher's log folder."""
    if not os.path.isdir(run_dir):
        return []
    return sorted(n for n in os.listdir(run_dir) if n not in (LOCK, LOGS) and not n.startswith(TEMP_MARK))


def holds_run(run_dir):
    names = set(run_files(run_dir))
    return bool(names & {CONFIG, STATE, SUMMARY})


# -- bringing derived files in line with the state -----------------------------------------------------------

def read_metrics(run_dir):
    """The records of ``metrics.jsonl`` in order ([] without the file); a line torn by a crash is skipped."""
    file_path = path(run_dir, METRICS)
    if not os.path.exists(file_path):
        return []
    records = []
    with open(file_path, encoding="utf-8") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def trim_metrics(run_dir, step):
    """Keep the teacher's evaluation and every epoch record up to ``step``; drop the rest (records of epochs
    that the resumed run will train again).  Returns the kept epoch records."""
    if not os.path.exists(path(run_dir, METRICS)):
        return []
    kept = [r for r in read_metrics(run_dir) if r.get("type") == "teacher_eval" or int(r.get("step", 0)) <= step]
    write_text_atomic(path(run_dir, METRICS), "".join(json.dumps(r) + "\n" for r in kept))
    return [r for r in kept if r.get("type") != "teacher_eval"]
