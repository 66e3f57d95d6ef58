"""The run directory: where a run's config, logs, metrics and checkpoints live.

    <output_dir>/<name>/
        config.yaml        resolved config (every key, defaults filled in)
        env.json           seed, versions, device, command line
        classes.json       class index -> name
        train.log          human-readable log
        metrics.jsonl      one JSON object per evaluation (and the teacher's, tagged)
        best.ckpt          student weights at the best test top-1
        last.ckpt          student weights after the last finished epoch
        train_state.ckpt   everything needed to resume (student, optimizer moments, step, epoch, best)
        summary.json       written when the run finishes
"""
import json
import logging
import os
import platform
import sys

import yaml

import ats_ms
from ats_ms.config import to_dict

STATE = "train_state.ckpt"


def path(run_dir, name):
    return os.path.join(run_dir, name)


def write_text_atomic(file_path, text):
    tmp = f"{file_path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, file_path)


def write_json(file_path, obj):
    write_text_atomic(file_path, json.dumps(obj, indent=2) + "\n")


def append_jsonl(file_path, obj):
    with open(file_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj) + "\n")


def versions():
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    return {"ats_ms": ats_ms.__version__, "mindspore": ms.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def write_run_files(run_dir, cfg, class_names, extra_env):
    os.makedirs(run_dir, exist_ok=True)
    write_text_atomic(path(run_dir, "config.yaml"), yaml.safe_dump(to_dict(cfg), sort_keys=False))
    env = {"seed": cfg.experiment.seed, "versions": versions(), "argv": sys.argv,
           "env": {k: os.environ.get(k) for k in ("ONEDNN_MAX_CPU_ISA", "GLOG_v", "RANK_ID", "RANK_SIZE")}}
    env.update(extra_env)
    write_json(path(run_dir, "env.json"), env)
    write_json(path(run_dir, "classes.json"), {str(i): n for i, n in enumerate(class_names)})


def setup_logger(run_dir, write_files=True):
    """Log to stdout and (rank 0) to <run_dir>/train.log."""
    logger = logging.getLogger("ats_ms")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
    stream = logging.StreamHandler(sys.stdout)
    stream.setFormatter(fmt)
    logger.addHandler(stream)
    if write_files:
        os.makedirs(run_dir, exist_ok=True)
        file_handler = logging.FileHandler(path(run_dir, "train.log"))
        file_handler.setFormatter(fmt)
        logger.addHandler(file_handler)
    return logger
