"""One writer per run folder: an exclusive ``flock`` on ``<run_dir>/.lock`` held for the whole run.

The OS drops the lock when the process dies, so a killed run never leaves a stale lock; a second process
is refused before it writes anything and is told which process holds the folder."""
import json
import os
import socket
import sys
import time

from ats_ms.engine.run_dir import LOCK, guarded_write, path
from ats_ms.common.errors import FolderBusy

try:  # POSIX; MindSpore's training platforms are Linux
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


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

