"""``msrun ... ats_ms/launch/sweep_worker.py ARGS``: one data-parallel worker of ``ats_ms.sweep`` (e.g. a
shared-teacher temperature grid on several devices).  Every worker walks the same points and groups in
the same order; rank 0 writes the run folders.  A script of its own folder, like ``train_worker.py``."""
import sys

from ats_ms.cli import run_cli
from ats_ms.sweep import main

if __name__ == "__main__":
    sys.exit(run_cli(main))
