"""Every shipped config validates, names a real network, and the paper pairs carry the paper's taus."""
import functools
import glob
import os

import pytest

from ats_ms.config import load_config
from ats_ms.models import create_model
from conftest import REPO

ALL_YAML = sorted(glob.glob(os.path.join(REPO, "configs", "**", "*.yaml"), recursive=True))
CHAINS = [p for p in ALL_YAML if f"{os.sep}ta_chain{os.sep}" in p]
CONFIGS = [p for p in ALL_YAML if p not in CHAINS]


@functools.lru_cache(maxsize=None)
def _builds(arch):
    """Each network named by the configs is built once (most are named by many configs) and maps a batch of
    images to one logit per class."""
    import numpy as np
    import mindspore as ms
    net = create_model(arch, 10)
    net.set_train(False)
    size = 64 if str(arch).startswith("mindcv:") else 32
    return net(ms.Tensor(np.zeros((2, 3, size, size), np.float32))).shape == (2, 10)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, REPO))
def test_config_validates(path, tmp_path):
    cfg = load_config(path, [f"experiment.output_dir={tmp_path}"])
    assert _builds(cfg.model.arch)
    if cfg.distill.method != "none":
        assert _builds(cfg.teacher.arch)


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
    from ats_ms.experiments.chain import load_chain
    _, _, stages = load_chain(path)
    for stage in stages:
        load_config(stage["config"], stage.get("overrides", []))


def test_capacity_mismatch_configs_use_published_defaults():
    folder = os.path.join(REPO, "configs/cifar100/benchmark/resnet32x4_to_resnet8x4")
    dkd = load_config(os.path.join(folder, "dkd.yaml")).distill
    assert (dkd.method, dkd.ce_weight, dkd.dkd.alpha, dkd.dkd.beta, dkd.dkd.temperature, dkd.dkd.warmup_epochs) == \
        ("dkd", 1.0, 1.0, 8.0, 4.0, 20.0)
    ls = load_config(os.path.join(folder, "ls.yaml")).distill
    assert (ls.method, ls.ls.temperature, ls.ce_weight, ls.kd_weight) == ("ls", 2.0, 0.1, 9.0)
    dkd_ls = load_config(os.path.join(folder, "dkd_ls.yaml")).distill
    assert dkd_ls.dkd.logit_standardize and dkd_ls.dkd.temperature == 2.0
    assert load_config(os.path.join(folder, "isats.yaml")).distill.method == "isats"
    assert load_config(os.path.join(folder, "ats_guard.yaml")).distill.keep_target_top


SHORT = os.path.join(REPO, "configs", "cifar10", "short")


def test_every_benchmark_pair_ships_each_logit_level_method_at_its_papers_setting():
    root = os.path.join(REPO, "configs/cifar100/benchmark")
    pairs = [p for p in sorted(os.listdir(root)) if os.path.isfile(os.path.join(root, p, "ats.yaml"))]
    assert len(pairs) == 12
    for pair in pairs:
        ats = load_config(os.path.join(root, pair, "ats.yaml"))
        for method in ("dist", "ls", "ctkd", "ttm", "wttm"):
            cfg = load_config(os.path.join(root, pair, f"{method}.yaml"))
            assert cfg.distill.method == method and cfg.experiment.name == f"{pair}_{method}"
            # the pair's protocol is the ATS config's: same networks, teacher, optimiser and schedule
            assert (cfg.model, cfg.teacher, cfg.optim, cfg.schedule, cfg.data) == \
                (ats.model, ats.teacher, ats.optim, ats.schedule, ats.data), (pair, method)
        d = load_config(os.path.join(root, pair, "dist.yaml")).distill
        assert (d.ce_weight, d.dist.beta, d.dist.gamma, d.dist.temperature) == (1.0, 2.0, 2.0, 4.0)
        c = load_config(os.path.join(root, pair, "ctkd.yaml")).distill
        assert (c.ce_weight, c.kd_weight, c.ctkd.t_min, c.ctkd.t_range, c.ctkd.curriculum_epochs) == (0.1, 0.9, 1.0, 20.0, 10)
        t = load_config(os.path.join(root, pair, "ttm.yaml")).distill
        assert (t.ce_weight, t.kd_weight, t.ttm.gamma) == (1.0, 45.0, 0.1)
        w = load_config(os.path.join(root, pair, "wttm.yaml")).distill
        assert (w.ce_weight, w.kd_weight, w.ttm.gamma) == (1.0, 4.0, 0.2)


def test_cifar10_short_recipe_is_the_documented_schedule():
    """The documented schedule and CIFAR-10's own mean/std, checked against every config of the
    recipe; the students read the checkpoint the teacher config writes."""
    import numpy as np
    from ats_ms.engine.schedule import create_scheduler
    teacher = load_config(os.path.join(SHORT, "teacher_resnet20.yaml"))
    students = {m: load_config(os.path.join(SHORT, "resnet20_to_resnet8", f"{m}.yaml")) for m in ("ce", "ts", "ats")}
    for cfg in [teacher] + list(students.values()):
        assert cfg.data.name == "cifar10" and cfg.data.batch_size == 128
        assert tuple(cfg.data.mean) == (0.4914, 0.4822, 0.4465) and tuple(cfg.data.std) == (0.2470, 0.2435, 0.2616)
        assert (cfg.optim.name, cfg.optim.lr, cfg.optim.momentum, cfg.optim.weight_decay) == ("sgd", 0.05, 0.9, 5e-4)
        s = cfg.schedule
        assert (s.policy, s.epochs, s.warmup_epochs, list(s.milestones), s.gamma) == ("step", 10, 1, [6, 8], 0.1)
        assert cfg.experiment.seed == 0
    assert teacher.model.arch == "resnet20" and teacher.distill.method == "none"
    written = os.path.join(teacher.experiment.output_dir, teacher.experiment.name, "best.ckpt")
    assert students["ce"].model.arch == "resnet8" and students["ce"].distill.method == "none"  # CE only
    for name, taus in (("ts", (4.0, 4.0)), ("ats", (4.0, 2.0))):
        cfg, d = students[name], students[name].distill
        assert cfg.model.arch == "resnet8" and cfg.teacher.arch == "resnet20" and cfg.teacher.checkpoint == written
        assert (d.method, d.tau_target, d.tau_wrong) == (name, *taus)
        assert (d.tau_student, d.ce_weight, d.kd_weight, d.form) == (1.0, 0.5, 0.5, "soft_ce")
    steps = 50_000 // 128  # 390 steps per epoch, the last partial batch dropped
    lr = create_scheduler(teacher.schedule, teacher.optim.lr, steps)
    assert len(lr) == 10 * steps
    np.testing.assert_allclose(lr[49], 0.05 * 50 / steps, rtol=1e-5)  # linear warm-up over epoch 1
    for epoch, value in ((2, 0.05), (6, 0.05), (7, 0.005), (8, 0.005), (9, 0.0005), (10, 0.0005)):
        np.testing.assert_allclose(lr[(epoch - 1) * steps:epoch * steps], value, rtol=1e-5, err_msg=f"epoch {epoch}")


def test_the_config_listing_fits_a_terminal_and_keeps_every_description():
    from ats_ms.config.shipped import list_configs
    from ats_ms.configs import listing_lines
    rows = list_configs()
    lines = listing_lines(rows, 80)
    assert max(len(line) for line in lines) <= 80
    assert len(rows) == len(ALL_YAML) and sum(1 for line in lines if not line.startswith("      ")) == len(rows)
    words = " ".join(line.strip() for line in lines).split()
    assert words == " ".join(f"{name} {text}" for name, text in rows).split()  # nothing dropped or reordered
