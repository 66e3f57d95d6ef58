"""Optional TensorBoard event files (``logging.tensorboard: true``) in each run folder.

Written through tensorboardX (a small, maintained event writer with no TensorFlow dependency; the
``tensorboard`` extra installs it).  Tags: ``train/<loss term>``, ``train/lr``, ``train/images_per_s`` at
every progress line, ``train/top1_epoch`` and ``test/top1``, ``test/top5``, ``test/loss`` at every epoch;
the x axis is the global step.  View with ``tensorboard --logdir runs/``.
"""
import os

from ats_ms.common.optional import require

SUBDIR = "tensorboard"


def _summary_writer_class():
    return require("tensorboardX", "logging.tensorboard: true (or set logging.tensorboard=false)").SummaryWriter


class ScalarWriter:
    def __init__(self, folder):
        writer_class = _summary_writer_class()
        os.makedirs(folder, exist_ok=True)
        self.writer = writer_class(folder)

    def add(self, tag, value, step):
        self.writer.add_scalar(tag, float(value), int(step))

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


def check_available(cfg_logging):
    """Fail at start, before any file is written, when TensorBoard output is asked for but impossible."""
    if cfg_logging.tensorboard:
        _summary_writer_class()


def open_scalar_writer(cfg_logging, run_dir):
    return ScalarWriter(os.path.join(run_dir, SUBDIR)) if cfg_logging.tensorboard else None
