"""Command-line flags of the MindSpore model-zoo ATS demo (``research/cv/ats``), mapped to config keys.

``python -m ats_ms.train`` accepts the flags of the demo's ``run_classify.py`` and ``run_distill.py`` (and
``python -m ats_ms.export`` those of its ``export.py``), so a demo command line does what the demo would:

- with demo flags alone (no ``--config``) every flag the command line leaves out takes the demo's default
  for the script the flags belong to: a distillation flag (``--kd_way``, ``--t_net_name``, ``--t_tau`` ...)
  means ``run_distill.py`` (``--kd_way ATS``, ``--t_tau 3.0``, ``--tp_tau 4.0``, student ``VGG8``, teacher
  ``ResNet14``), otherwise ``run_classify.py`` (``--net_name ResNet14``); both default to CIFAR-100 in
  ``./data/``, 240 epochs, lr 0.03, batch 128, ``./ckpts/cifar100-ResNet14.ckpt`` and ``./logs/classify.log``,
  and train with the demo's recipe (``configs/recipes/demo.yaml``);
- outputs go where the demo puts them: the final weights to ``<ckpt_dir>/<ckpt_name>`` (besides the run
  folder ``<ckpt_dir>/<ckpt_name without .ckpt>/``) and the log to ``<log_dir>/<log_name>`` (appended);
- a distillation reads its teacher from the demo's ``<ckpt_dir>/<dataset>-<t_net_name>.ckpt``: the file a
  demo teacher run, or an ats_ms teacher run with the same flags, wrote there (a demo-trained file is read
  with the demo's network layout), else the ats_ms teacher run folder's ``last.ckpt``;
- the demo's TS uses ``--t_tau`` on every class and ignores ``--tp_tau``; its network is chosen by
  ``--net_name`` alone (``--net``/``--n_layer`` are printed but unused, as in the demo).

With a ``--config`` the flags only override keys of that config (no demo defaults).  Every flag whose
demo meaning ats_ms cannot reproduce is named in one printed line (``notes``).
"""
import os
import re

from ats_ms.config.arch_names import PADDING_SAME
from ats_ms.engine import run_dir as rd
from ats_ms.common.errors import ConfigError

# flag -> help
FLAGS = {
    "--dataset": "cifar100 (the demo's only dataset) | cifar10",
    "--data_dir": "folder holding the official CIFAR release",
    "--download": "True/False: fetch the official archive when absent",
    "--n_classes": "classifier width",
    "--net": "ResNet | VGG (printed, unused: --net_name picks the network, as in the demo)",
    "--n_layer": "printed, unused (as in the demo)",
    "--net_name": "trained / student network, e.g. VGG8, ResNet14",
    "--t_net": "printed, unused (as in the demo)",
    "--t_n_layer": "printed, unused (as in the demo)",
    "--t_net_name": "teacher network, e.g. ResNet110",
    "--kd_way": "TS | ATS",
    "--tp_tau": "teacher temperature on the correct class (ATS)",
    "--t_tau": "teacher temperature on the wrong classes (TS: on every class)",
    "--s_tau": "student temperature",
    "--lamb": "KD weight lambda; the CE weight becomes 1 - lambda",
    "--epoches": "number of epochs",
    "--lr": "peak learning rate",
    "--momentum": "SGD momentum",
    "--batch_size": "batch size",
    "--log_dir": "folder of the log file",
    "--log_name": "log file name (appended to, as in the demo)",
    "--ckpt_dir": "where checkpoints (and ats_ms run folders) go",
    "--ckpt_name": "final-weights file name; its stem names the run folder",
}
DISTILL_FLAGS = ("--kd_way", "--t_net", "--t_n_layer", "--t_net_name", "--tp_tau", "--t_tau", "--s_tau", "--lamb")
COMMON_DEFAULTS = {"--dataset": "cifar100", "--data_dir": "./data/", "--download": "True", "--n_classes": "100",
                   "--epoches": "240", "--lr": "0.03", "--momentum": "0.9", "--batch_size": "128",
                   "--log_dir": "./logs/", "--log_name": "classify.log", "--ckpt_dir": "./ckpts/",
                   "--ckpt_name": "cifar100-ResNet14.ckpt"}
CLASSIFY_DEFAULTS = {"--net_name": "ResNet14"}
DISTILL_DEFAULTS = {"--t_net_name": "ResNet14", "--net_name": "VGG8", "--kd_way": "ATS", "--s_tau": "1.0",
                    "--t_tau": "3.0", "--tp_tau": "4.0", "--lamb": "0.5"}


def arch_name(demo_name):
    """ResNet14 -> resnet14, VGG8 -> vgg8; other names pass through lower-cased."""
    match = re.fullmatch(r"(resnet|vgg)(\d+)", demo_name.strip().lower())
    return f"{match[1]}{match[2]}" if match else demo_name.strip().lower()


REFERENCE_OVERRIDE = {"model.padding": "model.padding=symmetric", "model.conv_bias": "model.conv_bias=true"}


def demo_variant(arch):
    """The build options of the demo's version of ``arch`` (``ats_ms.models.variants``), as config keys: its
    ResNets pad with pad_mode="same", its VGG convolutions have no bias."""
    if arch in PADDING_SAME:
        return {"model.padding": "same"}
    if re.fullmatch(r"vgg\d+", arch):
        return {"model.conv_bias": False}
    return {}


def demo_variant_text(variant):
    return ", ".join("ResNet padding 'same'" if k == "model.padding" else "no convolution bias" for k in variant)


def add_to_parser(parser):
    group = parser.add_argument_group("model-zoo demo flags (run_classify.py / run_distill.py)")
    for flag, text in FLAGS.items():
        group.add_argument(flag, dest="demo_" + flag[2:], default=None, help=text)


def _truthy(value, flag):
    low = str(value).strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ConfigError(f"{flag} must be True or False, got '{value}'.")


def _number(value, flag, kind=float):
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{flag} must be a number, got '{value}'.") from None


def given_flags(args):
    given = {flag: getattr(args, "demo_" + flag[2:], None) for flag in FLAGS}
    return {k: v for k, v in given.items() if v is not None}


def teacher_checkpoint(ckpt_dir, dataset, t_net_name):
    """Where the demo's run_distill.py reads its teacher, and where ats_ms finds it."""
    demo_file = os.path.join(ckpt_dir, f"{dataset}-{t_net_name}.ckpt")
    run_last = os.path.join(ckpt_dir, f"{dataset}-{t_net_name}", rd.LAST)
    if os.path.isfile(demo_file) or not os.path.isfile(run_last):
        return demo_file
    return run_last


def to_overrides(args, with_config=False):
    """Demo flags on ``args`` -> (recipe or None, section.key=value overrides, notes to print)."""
    given = given_flags(args)
    if not given:
        return None, [], []
    distill = any(f in given for f in DISTILL_FLAGS)
    flags = dict(given)
    if not with_config:
        flags = {**COMMON_DEFAULTS, **(DISTILL_DEFAULTS if distill else CLASSIFY_DEFAULTS), **given}
    notes = []
    out = {}
    if "--dataset" in flags:
        out["data.name"] = flags["--dataset"].lower()
    if "--data_dir" in flags:
        out["data.root"] = flags["--data_dir"]
        notes.append("--data_dir: ats_ms reads the official release of the dataset --dataset names under it (for "
                     "cifar100: cifar-100-binary/ or cifar-100-python/); the demo's MindVision 0.1.0 loader reads "
                     "cifar-10-batches-py/ there whatever --dataset says, i.e. it trains on CIFAR-10")
    if "--download" in flags:
        out["data.download"] = _truthy(flags["--download"], "--download")
        if "--download" in given and not out["data.download"]:
            notes.append("--download False is honoured (the demo's argparse type=bool reads any value, 'False' "
                         "included, as True)")
    if "--n_classes" in flags:
        out["model.num_classes"] = _number(flags["--n_classes"], "--n_classes", int)
    if "--net_name" in flags:
        out["model.arch"] = arch_name(flags["--net_name"])
        if not with_config:
            variant = demo_variant(out["model.arch"])
            out.update(variant)
            if variant:
                notes.append(f"{flags['--net_name']} is built as the demo builds it ({demo_variant_text(variant)}), so "
                             "its checkpoint loads into the demo and gives the demo's logits; "
                             f"{' '.join(REFERENCE_OVERRIDE[k] for k in variant)} builds the PyTorch references' "
                             "network instead")
    for flag in ("--net", "--n_layer", "--t_net", "--t_n_layer"):
        if flag in given:
            notes.append(f"{flag} {given[flag]} is not used, as in the demo: --net_name / --t_net_name pick the networks")
    for flag, key, kind in (("--epoches", "schedule.epochs", int), ("--lr", "optim.lr", float),
                            ("--momentum", "optim.momentum", float), ("--batch_size", "data.batch_size", int)):
        if flag in flags:
            out[key] = _number(flags[flag], flag, kind)
    if "--ckpt_dir" in flags or "--ckpt_name" in flags:
        ckpt_dir = flags.get("--ckpt_dir", "./ckpts/")
        name = flags.get("--ckpt_name", "cifar100-ResNet14.ckpt")
        out["experiment.output_dir"] = ckpt_dir
        out["experiment.name"] = name[:-5] if name.endswith(".ckpt") else name
        out["checkpoint.copy_last_to"] = os.path.join(ckpt_dir, name)
    if "--log_dir" in flags or "--log_name" in flags:
        out["logging.also_log_to"] = os.path.join(flags.get("--log_dir", "./logs/"), flags.get("--log_name", "classify.log"))
    if distill:
        way = flags.get("--kd_way", "ATS").upper()
        if way not in ("TS", "ATS"):
            raise ConfigError(f"--kd_way must be TS or ATS, got '{flags['--kd_way']}'.")
        out["distill.method"] = way.lower()
        if "--t_tau" in flags:
            t_tau = _number(flags["--t_tau"], "--t_tau")
            out["distill.tau_wrong"] = t_tau
            if way == "TS":  # the demo's TS scales every class by t_tau and ignores tp_tau
                out["distill.tau_target"] = t_tau
        if way == "ATS" and "--tp_tau" in flags:
            out["distill.tau_target"] = _number(flags["--tp_tau"], "--tp_tau")
        if way == "TS" and "--tp_tau" in given and "--t_tau" in flags \
                and _number(given["--tp_tau"], "--tp_tau") != out["distill.tau_wrong"]:
            notes.append(f"--tp_tau {given['--tp_tau']} is ignored by TS, as in the demo (TS uses --t_tau on every class)")
        if "--s_tau" in flags:
            out["distill.tau_student"] = _number(flags["--s_tau"], "--s_tau")
        if "--lamb" in flags:
            lamb = _number(flags["--lamb"], "--lamb")
            out["distill.kd_weight"], out["distill.ce_weight"] = lamb, 1.0 - lamb
        if "--t_net_name" in flags:
            out["teacher.arch"] = arch_name(flags["--t_net_name"])
            ckpt_dir = flags.get("--ckpt_dir", "./ckpts/")
            out["teacher.checkpoint"] = teacher_checkpoint(ckpt_dir, flags.get("--dataset", "cifar100").lower(),
                                                           flags["--t_net_name"])
    recipe = None if with_config else "demo"
    return recipe, [f"{k}={_yaml(v)}" for k, v in out.items()], notes


def _yaml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_teacher(path):
    """One log line: which teacher file a demo command line distils from."""
    if os.path.basename(path) == rd.LAST:
        return f"teacher: {path} (the ats_ms teacher run's last epoch; the demo's {os.path.dirname(path)}.ckpt is absent)"
    return f"teacher: {path} (the demo's <ckpt_dir>/<dataset>-<t_net_name>.ckpt)"
