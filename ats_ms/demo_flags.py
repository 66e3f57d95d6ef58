"""Command-line flags of the MindSpore model-zoo ATS demo (``research/cv/ats``), mapped to config keys.

``python -m ats_ms.train`` and ``python -m ats_ms.export`` accept them, so a demo command line runs with
the same meaning.  Demo network names (``ResNet14``, ``VGG8``) become ats_ms names (``resnet14``,
``vgg8``).  A demo checkpoint name becomes the run name: ``--ckpt_dir ckpts --ckpt_name
cifar100-ResNet14.ckpt`` trains into ``ckpts/cifar100-ResNet14/``, and a distillation run finds its
teacher where the demo looked for it, ``<ckpt_dir>/<dataset>-<t_net_name>``, as
``<ckpt_dir>/<dataset>-<t_net_name>/best.ckpt``.
"""
import os
import re

from ats_ms.errors import ConfigError

# flag -> (config key or None, help)
FLAGS = {
    "--dataset": ("data.name", "cifar10 | cifar100"),
    "--data_dir": ("data.root", "folder holding the official CIFAR release"),
    "--download": ("data.download", "True/False: fetch the official archive"),
    "--n_classes": ("model.num_classes", "classifier width"),
    "--net_name": ("model.arch", "student / trained network, e.g. VGG8, ResNet14"),
    "--t_net_name": ("teacher.arch", "teacher network, e.g. ResNet110"),
    "--kd_way": ("distill.method", "TS | ATS (absent: train without KD, like run_classify.py)"),
    "--tp_tau": ("distill.tau_target", "teacher temperature on the correct class"),
    "--t_tau": ("distill.tau_wrong", "teacher temperature on the wrong classes (TS: on every class)"),
    "--s_tau": ("distill.tau_student", "student temperature"),
    "--lamb": ("distill.kd_weight", "KD weight lambda; the CE weight becomes 1 - lambda"),
    "--epoches": ("schedule.epochs", "number of epochs"),
    "--lr": ("optim.lr", "peak learning rate"),
    "--momentum": ("optim.momentum", "SGD momentum"),
    "--batch_size": ("data.batch_size", "batch size"),
    "--ckpt_dir": ("experiment.output_dir", "where runs (and their checkpoints) go"),
    "--ckpt_name": ("experiment.name", "run name (a trailing .ckpt is dropped)"),
    "--net": (None, "accepted for compatibility: ResNet | VGG (with --n_layer) when --net_name is absent"),
    "--n_layer": (None, "accepted for compatibility"),
    "--t_net": (None, "accepted for compatibility"),
    "--t_n_layer": (None, "accepted for compatibility"),
    "--log_dir": (None, "accepted; logs are written into the run directory"),
    "--log_name": (None, "accepted; logs are written into the run directory"),
}


def arch_name(demo_name):
    """ResNet14 -> resnet14, VGG8 -> vgg8; other names pass through lower-cased."""
    match = re.fullmatch(r"(resnet|vgg)(\d+)", demo_name.strip().lower())
    return f"{match[1]}{match[2]}" if match else demo_name.strip().lower()


def add_to_parser(parser):
    group = parser.add_argument_group("model-zoo demo flags (mapped to config keys)")
    for flag, (_, text) in FLAGS.items():
        group.add_argument(flag, dest="demo_" + flag[2:], default=None, help=text)


def _truthy(value, flag):
    low = str(value).strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ConfigError(f"{flag} must be True or False, got '{value}'.")


def to_overrides(args):
    """Demo flags present on ``args`` -> (recipe or None, list of section.key=value overrides)."""
    given = {flag: getattr(args, "demo_" + flag[2:], None) for flag in FLAGS}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None, []
    out = {}
    for flag, value in given.items():
        key = FLAGS[flag][0]
        if key is None:
            continue
        if flag in ("--net_name", "--t_net_name"):
            value = arch_name(value)
        elif flag == "--download":
            value = _truthy(value, flag)
        elif flag == "--ckpt_name":
            value = value[:-5] if value.endswith(".ckpt") else value
        elif flag == "--kd_way":
            if value.upper() not in ("TS", "ATS"):
                raise ConfigError(f"--kd_way must be TS or ATS, got '{value}'.")
            value = value.lower()
        out[key] = value
    if "model.arch" not in out and "--net" in given and "--n_layer" in given:
        out["model.arch"] = arch_name(given["--net"] + given["--n_layer"])
    if "teacher.arch" not in out and "--t_net" in given and "--t_n_layer" in given:
        out["teacher.arch"] = arch_name(given["--t_net"] + given["--t_n_layer"])
    if "distill.kd_weight" in out:
        out["distill.ce_weight"] = 1.0 - float(out["distill.kd_weight"])
    method = out.get("distill.method")
    if method == "ts":  # the demo's TS scales every class by t_tau and ignores tp_tau
        out["distill.tau_target"] = out.get("distill.tau_wrong", 3.0)
        out.setdefault("distill.tau_wrong", out["distill.tau_target"])
    if method in ("ts", "ats") and "teacher.checkpoint" not in out:
        teacher = given.get("--t_net_name") or "ResNet14"
        out.setdefault("teacher.arch", arch_name(teacher))
        out["teacher.checkpoint"] = os.path.join(out.get("experiment.output_dir", "ckpts"),
                                                 f"{out.get('data.name', 'cifar100')}-{teacher}", "best.ckpt")
    return "demo", [f"{k}={v}" for k, v in out.items()]
