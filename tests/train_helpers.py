"""Tiny, fast training configs on the built-in digits data for end-to-end tests."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_overrides(out_dir, name, arch="resnet8", epochs=3, **extra):
    base = {
        "experiment.output_dir": out_dir, "experiment.name": name, "data.name": "digits",
        "data.batch_size": 64, "data.eval_batch_size": 512, "model.arch": arch, "schedule.epochs": epochs,
        "schedule.warmup_epochs": 0, "schedule.milestones": "[]", "optim.lr": 0.05, "logging.log_interval": 10,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_cli(module, args, **kw):
    env = dict(os.environ, GLOG_v="3")
    return subprocess.run([sys.executable, "-m", module] + list(args), capture_output=True, text=True,
                          cwd=REPO, env=env, **kw)


def popen_train(args):
    env = dict(os.environ, GLOG_v="3")
    return subprocess.Popen([sys.executable, "-m", "ats_ms.train"] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
