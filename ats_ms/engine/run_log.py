"""Progress and result lines: to stdout, and to the ``train.log`` of each run they concern.

A multi-student run trains several runs at once, so a line is addressed to some of them (their folders
each keep a complete log of their own) or to all.  Extra files (the model-zoo demo's ``--log_dir`` /
``--log_name``) are further sinks of one run.
"""
import sys
import time

from ats_ms.engine.run_dir import guarded_write


class RunLog:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.files = {}      # key -> list of (path, file object)

    def add_file(self, key, file_path):
        with guarded_write(file_path, "the earlier log lines are unchanged"):
            handle = open(file_path, "a", encoding="utf-8", buffering=1)  # pylint: disable=consider-using-with
        self.files.setdefault(key, []).append((file_path, handle))

    def info(self, message, to=None, echo=True):
        """``to``: keys of the runs the line concerns (None = all)."""
        line = f"{time.strftime('%H:%M:%S')} {message}"
        if echo:
            print(line, file=self.stream, flush=True)
        keys = self.files if to is None else [k for k in to if k in self.files]
        for key in keys:
            for file_path, handle in self.files[key]:
                with guarded_write(file_path, "the earlier log lines are unchanged"):
                    handle.write(line + "\n")

    def close(self):
        for handles in self.files.values():
            for _, handle in handles:
                try:
                    handle.close()
                except OSError:
                    pass
        self.files = {}
