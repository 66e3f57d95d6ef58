"""Everything the model-zoo ATS demo offered, run through ats_ms with the demo's own flags."""
import argparse
import os

import numpy as np
import pytest

import mindspore as ms

from ats_ms import demo_flags
from ats_ms.config import load_config
from ats_ms.engine.schedule import create_scheduler
from ats_ms.models import create_model
from cifar_fixtures import random_split, write_binary
from conftest import REPO
from train_helpers import run_cli

TINY = ["data.train_samples=96", "data.test_samples=20", "schedule.warmup_epochs=0"]


def _flags(*argv):
    parser = argparse.ArgumentParser()
    demo_flags.add_to_parser(parser)
    return demo_flags.to_overrides(parser.parse_args(list(argv)))


def test_flag_mapping():
    recipe, overrides = _flags("--dataset", "cifar100", "--data_dir", "/d", "--net_name", "VGG8", "--t_net_name",
                               "ResNet110", "--kd_way", "ATS", "--tp_tau", "4.0", "--t_tau", "2.0", "--s_tau", "1.0",
                               "--lamb", "0.3", "--epoches", "2", "--lr", "0.03", "--batch_size", "128",
                               "--ckpt_dir", "./ckpts", "--ckpt_name", "cifar100-ResNet110-VGG8-ATS.ckpt",
                               "--log_dir", "./logs", "--download", "False")
    cfg = load_config(None, overrides, recipe=recipe)
    assert (cfg.data.name, cfg.data.root, cfg.data.download, cfg.model.arch) == ("cifar100", "/d", False, "vgg8")
    assert (cfg.distill.method, cfg.distill.tau_target, cfg.distill.tau_wrong, cfg.distill.tau_student) == \
        ("ats", 4.0, 2.0, 1.0)
    assert (cfg.distill.kd_weight, cfg.distill.ce_weight) == (0.3, pytest.approx(0.7))
    assert (cfg.schedule.epochs, cfg.optim.lr, cfg.data.batch_size) == (2, 0.03, 128)
    assert cfg.experiment.output_dir == "./ckpts" and cfg.experiment.name == "cifar100-ResNet110-VGG8-ATS"
    assert cfg.teacher.arch == "resnet110"
    assert cfg.teacher.checkpoint == os.path.join("./ckpts", "cifar100-ResNet110", "best.ckpt")
    # the demo's recipe comes with its flags: no weight decay, poly decay, CIFAR-10 constants
    assert cfg.optim.weight_decay == 0.0 and cfg.schedule.policy == "poly" and cfg.data.std == [0.2023, 0.1994, 0.2010]
    # TS in the demo scales every class by t_tau
    _, ts = _flags("--kd_way", "TS", "--tp_tau", "9", "--t_tau", "4", "--t_net_name", "ResNet14")
    ts_cfg = load_config(None, ts, recipe="demo")
    assert (ts_cfg.distill.method, ts_cfg.distill.tau_target, ts_cfg.distill.tau_wrong) == ("ts", 4.0, 4.0)
    # run_classify.py: no KD flags, no distillation; --net/--n_layer spell the network too
    _, plain = _flags("--net", "ResNet", "--n_layer", "110")
    assert load_config(None, plain).model.arch == "resnet110" and load_config(None, plain).distill.method == "none"


def test_demo_recipe_schedule_is_the_demos():
    cfg = load_config(os.path.join(REPO, "configs/cifar100/demo/resnet14_to_vgg8/ats.yaml"))
    lrs = create_scheduler(cfg.schedule, cfg.optim.lr, 100)
    # the demo: 0.001 + (0.03 - 0.001) * i / 300 during 3 warm-up epochs, then 0.03 * (1 - t)^2
    np.testing.assert_allclose(lrs[:2], [0.001, 0.001 + 0.029 / 300], rtol=1e-5)
    assert lrs[300] == pytest.approx(0.03) and lrs[300 + 11850] == pytest.approx(0.03 * 0.25, rel=1e-4)


def test_demo_scripts_end_to_end(tmp_path):
    """run_teacher.sh, run_student.sh, run_ts.sh, run_ats.sh and run_export.sh, as demo command lines."""
    data = str(tmp_path / "data")
    write_binary(data, "cifar100", random_split(96, 100, 1), random_split(20, 100, 2))
    ckpts = str(tmp_path / "ckpts")
    common = ["--dataset", "cifar100", "--data_dir", data, "--n_classes", "100", "--epoches", "1", "--lr", "0.03",
              "--momentum", "0.9", "--batch_size", "32", "--ckpt_dir", ckpts]
    teacher = run_cli("ats_ms.train", common + ["--net", "ResNet", "--n_layer", "14", "--net_name", "ResNet14",
                                                "--ckpt_name", "cifar100-ResNet14.ckpt"] + TINY)
    assert teacher.returncode == 0, teacher.stdout[-2000:] + teacher.stderr[-2000:]
    assert os.path.isfile(os.path.join(ckpts, "cifar100-ResNet14", "best.ckpt"))
    student = run_cli("ats_ms.train", common + ["--net_name", "VGG8", "--ckpt_name", "cifar100-VGG8.ckpt"] + TINY)
    assert student.returncode == 0, student.stderr[-2000:]
    for way, taus in (("TS", ["--tp_tau", "4.0", "--t_tau", "4.0"]), ("ATS", ["--tp_tau", "4.0", "--t_tau", "2.0"])):
        proc = run_cli("ats_ms.train", common + ["--t_net", "ResNet", "--t_n_layer", "14", "--t_net_name", "ResNet14",
                                                 "--net_name", "VGG8", "--kd_way", way, *taus, "--s_tau", "1.0",
                                                 "--lamb", "0.5", "--ckpt_name", f"cifar100-ResNet14-VGG8-{way}.ckpt"]
                       + TINY)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert f"method {way.lower()}" in proc.stdout and "teacher resnet14: top1" in proc.stdout
    # the demo's default student --ckpt_name is the teacher's file name: ats_ms refuses to overwrite it
    clash = run_cli("ats_ms.train", common + ["--net_name", "VGG8", "--kd_way", "ATS", "--t_net_name", "ResNet14",
                                              "--ckpt_name", "cifar100-ResNet14.ckpt"] + TINY)
    assert clash.returncode == 2 and "already holds a run" in " ".join(clash.stderr.split())
    export = run_cli("ats_ms.export", ["--device", "CPU", "--device_id", "0", "--n_classes", "100", "--t_net_name",
                                       "ResNet14", "--net_name", "VGG8", "--ckpt_dir", ckpts, "--ckpt_name",
                                       "cifar100-ResNet14-VGG8-ATS.ckpt"])
    assert export.returncode == 0, export.stderr[-2000:]
    assert os.path.isfile(os.path.join(ckpts, "cifar100-ResNet14-VGG8-ATS_mindir.mindir"))


def test_demo_layout_checkpoints_convert(tmp_path):
    """The demo's VGG8 cells have ats_ms's layout (same names and padding): its checkpoints give the same
    logits.  Written here as the demo would (save_checkpoint of the network, plus optimizer entries)."""
    demo_net = create_model("vgg8", 100)
    entries = [{"name": p.name, "data": p} for p in demo_net.get_parameters()]
    entries.append({"name": "moments.block0.0.weight", "data": ms.Tensor(np.zeros((64, 3, 3, 3), np.float32))})
    ms.save_checkpoint(entries, str(tmp_path / "cifar100-VGG8.ckpt"))
    proc = run_cli("ats_ms.convert", ["--arch", "vgg8", "--input", str(tmp_path / "cifar100-VGG8.ckpt"),
                                      "--output", str(tmp_path / "vgg8.ckpt")])
    assert proc.returncode == 0, proc.stderr
    net = create_model("vgg8", 100)
    ms.load_param_into_net(net, ms.load_checkpoint(str(tmp_path / "vgg8.ckpt")))
    x = ms.Tensor(np.random.RandomState(0).randn(2, 3, 32, 32).astype(np.float32))
    net.set_train(False)
    demo_net.set_train(False)
    np.testing.assert_array_equal(net(x).asnumpy(), demo_net(x).asnumpy())
    resnet = create_model("resnet14", 100)
    ms.save_checkpoint(resnet, str(tmp_path / "cifar100-ResNet14.ckpt"))
    proc = run_cli("ats_ms.convert", ["--arch", "resnet14", "--input", str(tmp_path / "cifar100-ResNet14.ckpt"),
                                      "--output", str(tmp_path / "r14.ckpt")])
    assert proc.returncode == 0 and "pads its stride-2 3x3 convolutions TensorFlow-style" in proc.stdout
