"""Every shipped config validates, names a real network, and the paper pairs carry the paper's taus."""
import glob
import os

import pytest

from ats_ms.config import load_config
from ats_ms.models import create_model
from conftest import REPO

ALL_YAML = sorted(glob.glob(os.path.join(REPO, "configs", "**", "*.yaml"), recursive=True))
CHAINS = [p for p in ALL_YAML if f"{os.sep}ta_chain{os.sep}" in p]
CONFIGS = [p for p in ALL_YAML if p not in CHAINS]


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


BENCHMARK_PAIRS = [("resnet56", "resnet20"), ("resnet110", "resnet32"), ("resnet32x4", "resnet8x4"),
                   ("wrn_40_2", "wrn_16_2"), ("wrn_40_2", "wrn_40_1"), ("vgg13", "vgg8"), ("vgg13", "mobilenetv2"),
                   ("resnet50", "mobilenetv2"), ("resnet50", "vgg8"), ("resnet32x4", "shufflev1"),
                   ("resnet32x4", "shufflev2"), ("wrn_40_2", "shufflev1")]


def test_benchmark_pairs_follow_the_repdistiller_protocol():
    for teacher, student in BENCHMARK_PAIRS:
        folder = os.path.join(REPO, "configs/cifar100/benchmark", f"{teacher}_to_{student}")
        ce, kd, ats = (load_config(os.path.join(folder, f"{m}.yaml")) for m in ("ce", "kd", "ats"))
        assert {"ce.yaml", "kd.yaml", "ats.yaml"} <= set(os.listdir(folder))
        assert ce.distill.method == "none" and ce.model.arch == student
        assert (kd.distill.ce_weight, kd.distill.kd_weight, kd.distill.form) == (0.1, 0.9, "kl")
        assert (kd.distill.tau_target, kd.distill.tau_wrong, kd.distill.tau_student) == (4.0, 4.0, 4.0)
        assert ats.distill.method == "ats" and ats.distill.tau_target > ats.distill.tau_wrong
        for cfg in (ce, kd, ats):
            assert cfg.data.batch_size == 64 and cfg.schedule.warmup_epochs == 0
            assert cfg.optim.lr == (0.01 if student in ("mobilenetv2", "shufflev1", "shufflev2") else 0.05)
        assert kd.teacher.arch == teacher and os.path.isfile(
            os.path.join(REPO, "configs/cifar100/benchmark/teachers", f"{teacher}.yaml"))


@pytest.mark.parametrize("path", CHAINS, ids=lambda p: os.path.relpath(p, REPO))
def test_chain_files_load(path):
    from ats_ms.chain import load_chain
    _, _, stages = load_chain(path)
    for stage in stages:
        load_config(stage["config"], stage.get("overrides", []))


def test_capacity_mismatch_configs_use_published_defaults():
    folder = os.path.join(REPO, "configs/cifar100/benchmark/resnet32x4_to_resnet8x4")
    dkd = load_config(os.path.join(folder, "dkd.yaml")).distill
    assert (dkd.method, dkd.ce_weight, dkd.dkd_alpha, dkd.dkd_beta, dkd.dkd_temperature, dkd.dkd_warmup_epochs) == \
        ("dkd", 1.0, 1.0, 8.0, 4.0, 20.0)
    ls = load_config(os.path.join(folder, "kd_ls.yaml")).distill
    assert ls.logit_standardize and (ls.tau_target, ls.kd_weight) == (2.0, 9.0)
    assert load_config(os.path.join(folder, "isats.yaml")).distill.method == "isats"
    assert load_config(os.path.join(folder, "ats_guard.yaml")).distill.keep_target_top
