"""ats_ms.config: the defaults are the ATS paper's recipe, YAML and dotted overrides, every refused config named
before anything runs, methods' own sections, and configs saved by earlier releases read in today's shape."""
import subprocess
import sys

import pytest
import yaml

from ats_ms.config import load_config, parse_override
from ats_ms.common.errors import ConfigError


def test_defaults_are_the_ats_paper_recipe():
    cfg = load_config()
    assert (cfg.optim.lr, cfg.optim.momentum, cfg.optim.weight_decay) == (0.05, 0.9, 5e-4)
    assert (cfg.data.batch_size, cfg.schedule.epochs, cfg.schedule.warmup_epochs) == (128, 240, 5.0)
    assert (cfg.schedule.milestones, cfg.schedule.gamma) == ([150, 180, 210], 0.1)
    assert (cfg.distill.ce_weight, cfg.distill.kd_weight, cfg.distill.tau_student, cfg.distill.form) == \
        (0.5, 0.5, 1.0, "soft_ce")
    assert cfg.runtime.mode == "graph"


def test_yaml_and_dotted_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {arch: resnet20}\noptim: {lr: 0.1}\n")
    cfg = load_config(str(path), ["optim.lr=0.2", "schedule.milestones=[1, 2]", "data.mean=null"])
    assert cfg.model.arch == "resnet20" and cfg.optim.lr == 0.2 and cfg.schedule.milestones == [1, 2]
    assert parse_override("distill.tau_wrong=2") == {"distill": {"tau_wrong": 2}}


@pytest.mark.parametrize("overrides,match", [
    (["optim.lrr=0.1"], "unknown key 'optim.lrr'. Did you mean 'lr'"),
    (["optimm.lr=0.1"], "unknown section 'optimm'. Did you mean 'optim'"),
    (["optim.lr=fast"], "'optim.lr' must be of type float"),
    (["optim.lr=-1"], "'optim.lr' must be > 0"),
    (["data.name=cifar1000"], "must be one of.*Did you mean 'cifar100'"),
    (["model.arch=wrn_17_1"], "depth must be 6n\\+4"),
    (["model.arch=resnet9_a"], "depth must be 6n\\+2"),
    (["distill.method=ats"], "needs a trained teacher"),
    (["distill.method=ts", "teacher.arch=resnet8", "teacher.checkpoint=x", "distill.tau_wrong=2"],
     "symmetric temperature scaling"),
    (["schedule.milestones=[3, 1]"], "must be increasing"),
    (["data.std=[0.1, 0.2]"], r"one value per input channel \(3 for cifar100\)"),
    (["checkpoint.resume=/no/such/file"], "neither 'none', 'auto' nor an existing file"),
    (["optim.lr"], "not of the form section.key=value"),
    (["data.train_samples=100", "data.subset_per_class=10"], "choose the training images in two ways"),
    (["data.val_per_class=-1"], "'data.val_per_class' must be >= 0"),
])
def test_bad_config_is_rejected_before_anything_runs(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, overrides)


def test_cli_reports_one_paragraph_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "ats_ms.train", "optim.momentun=0.9"], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert "Did you mean 'momentum'" in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr


def test_a_methods_own_keys_live_in_its_section():
    cfg = load_config(None, ["distill.method=dkd", "teacher.arch=resnet8", "teacher.checkpoint=t.ckpt",
                             "distill.dkd.alpha=2", "distill.isats.candidates=8"])
    assert (cfg.distill.dkd.alpha, cfg.distill.dkd.beta, cfg.distill.isats.candidates) == (2.0, 8.0, 8)
    with pytest.raises(ConfigError, match=r"'distill.dkd_alpha' has moved to 'distill.dkd.alpha'.*distill.dkd.alpha=2"):
        load_config(None, ["distill.dkd_alpha=2"])
    with pytest.raises(ConfigError, match=r"unknown key 'distill.dkd.alpah'. Did you mean 'alpha'"):
        load_config(None, ["distill.dkd.alpah=2"])
    with pytest.raises(ConfigError, match=r"'distill.dkd.temperature' must be > 0"):
        load_config(None, ["distill.method=dkd", "teacher.arch=resnet8", "teacher.checkpoint=t.ckpt",
                           "distill.dkd.temperature=0"])


def test_a_config_saved_by_an_earlier_release_is_read_in_todays_shape(tmp_path):
    """Run folders written before the methods had sections keep working: eval, resume, report read them."""
    from ats_ms.config import config_from_dict
    from ats_ms.engine.run_dir import read_saved_config
    saved = {"distill": {"method": "dkd", "dkd_alpha": 3.0, "dkd_warmup_epochs": 5, "isats_candidates": 4},
             "teacher": {"arch": "resnet8", "checkpoint": "t.ckpt"}}
    cfg = config_from_dict(saved)
    assert (cfg.distill.dkd.alpha, cfg.distill.dkd.warmup_epochs, cfg.distill.isats.candidates) == (3.0, 5.0, 4)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    assert read_saved_config(str(tmp_path))["distill"]["dkd"] == {"alpha": 3.0, "warmup_epochs": 5}


def test_an_earlier_releases_run_folder_is_read_by_the_commands_it_printed(tmp_path):
    """A run folder whose config.yaml holds the flat method keys of release 0.2.0: the resume command that release
    printed, eval and export read it in today's shape with one note, instead of refusing one key per attempt."""
    import os
    from train_helpers import REPO, tiny_overrides
    env = dict(os.environ, GLOG_v="3")
    trained = subprocess.run([sys.executable, "-m", "ats_ms.train"] + tiny_overrides(str(tmp_path), "old", epochs=1),
                             capture_output=True, text=True, cwd=REPO, env=env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    run = tmp_path / "old"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    for section, keys in (("dkd", ("alpha", "beta", "temperature", "warmup_epochs")), ("isats", ("tau_min", "candidates"))):
        options = saved["distill"].pop(section)
        for key in keys:
            saved["distill"][f"{section}_{key}"] = options[key]
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    config = str(run / "config.yaml")
    for argv in (["-m", "ats_ms.train", "--config", config, "--resume"],
                 ["-m", "ats_ms.eval", "--config", config, "--checkpoint", str(run / "best.ckpt")],
                 ["-m", "ats_ms.export", "--config", config, "--checkpoint", str(run / "best.ckpt"), "--output",
                  str(tmp_path / "m")]):
        proc = subprocess.run([sys.executable] + argv, capture_output=True, text=True, cwd=REPO, env=env)
        assert proc.returncode == 0, (argv, proc.stdout[-1500:], proc.stderr[-1500:])
        assert proc.stdout.count("was saved by an earlier release of ats_ms") == 1, proc.stdout
        assert "distill.isats_tau_min -> distill.isats.tau_min" in proc.stdout


def test_a_key_of_another_methods_section_is_said_to_have_no_effect(capsys):
    kd = ["teacher.arch=resnet8", "teacher.checkpoint=t.ckpt"]
    load_config(None, kd + ["distill.method=ats", "distill.dkd.alpha=2", "distill.dkd.beta=8"])
    err = capsys.readouterr().err
    assert "warning: distill.dkd.alpha (override 'distill.dkd.alpha=2') has no effect: distill.method is ats" in err
    assert "distill.dkd.beta" not in err  # its default: nothing changes either way
    load_config(None, kd + ["distill.method=dkd", "distill.dkd.alpha=3"])
    assert capsys.readouterr().err == ""
