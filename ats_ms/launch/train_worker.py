"""``msrun ... ats_ms/launch/train_worker.py ARGS``: one data-parallel worker of ``ats_ms.train``.

msrun starts a script by path; this file lives in its own folder so that running it as a script
puts nothing but itself on ``sys.path[0]`` (no package module can shadow a top-level one).
"""
import sys

from ats_ms.cli import run_cli
from ats_ms.train import main

if __name__ == "__main__":
    sys.exit(run_cli(main))
