"""Every shipped config validates, names a real network, and the paper pairs carry the paper's taus."""
import glob
import os

import pytest

from ats_ms.config import load_config
from ats_ms.models import create_model
from conftest import REPO

CONFIGS = sorted(glob.glob(os.path.join(REPO, "configs", "**", "*.yaml"), recursive=True))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, REPO))
def test_config_validates(path, tmp_path):
    cfg = load_config(path, [f"experiment.output_dir={tmp_path}"])
    create_model(cfg.model.arch, 10)
    if cfg.distill.method != "none":
        create_model(cfg.teacher.arch, 10)


def test_paper_pairs_are_all_there():
    for teacher in ("resnet14", "resnet110", "wrn_28_1", "wrn_28_8"):
        ts = load_config(os.path.join(REPO, "configs/cifar100/ats_paper", f"{teacher}_to_vgg8", "ts.yaml"))
        ats = load_config(os.path.join(REPO, "configs/cifar100/ats_paper", f"{teacher}_to_vgg8", "ats.yaml"))
        assert (ts.distill.tau_target, ts.distill.tau_wrong) == (4.0, 4.0)
        assert (ats.distill.tau_target, ats.distill.tau_wrong) == (4.0, 2.0)
        assert ats.teacher.arch == teacher and ats.model.arch == "vgg8" and ats.data.name == "cifar100"
        assert ats.optim.lr == 0.05 and ats.schedule.epochs == 240
        teacher_cfg = load_config(os.path.join(REPO, "configs/cifar100/ats_paper/teachers", f"{teacher}.yaml"))
        assert os.path.join(teacher_cfg.experiment.output_dir, teacher_cfg.experiment.name, "best.ckpt") == \
            ats.teacher.checkpoint
