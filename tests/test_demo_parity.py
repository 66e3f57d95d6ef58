"""A user migrating from the model-zoo ATS demo brings checkpoints and command lines: both must behave
exactly as in the demo.  The reference networks are rebuilt from the demo's description in
``demo_reference.py``, independently of ``ats_ms.models``."""
import argparse
import json
import os

import numpy as np
import pytest

import mindspore as ms

from ats_ms.cli import demo_flags
from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.engine.import_model import convert
from ats_ms.distill.frozen import FrozenTeacher
from ats_ms.engine.checkpoint import read_meta
from ats_ms.engine.restore import network_from_checkpoint
from ats_ms.engine.schedule import create_scheduler
from ats_ms.models import create_model
from cifar_fixtures import random_split, write_binary
from conftest import REPO
from demo_reference import demo_network, randomize_batchnorm


def _flags(*argv):
    parser = argparse.ArgumentParser()
    demo_flags.add_to_parser(parser)
    return demo_flags.to_overrides(parser.parse_args(list(argv)))


@pytest.mark.parametrize("name", ["ResNet14", "ResNet110", "VGG8", "ResNet20", "VGG11"])
def test_demo_checkpoint_gives_the_demos_logits(name, tmp_path, pynative):  # eager: no graph compiles needed
    ms.set_seed(3)
    demo_net = randomize_batchnorm(demo_network(name))
    path = str(tmp_path / f"cifar100-{name}.ckpt")
    ms.save_checkpoint(demo_net, path)  # what the demo's save_ckpt writes
    saved = ms.load_checkpoint(path)
    if name.startswith("VGG"):
        assert "block0.0.weight" in saved and "block0.0.bias" not in saved  # the demo's VGG has no conv bias
    x = ms.Tensor(np.random.RandomState(0).randn(4, 3, 32, 32).astype(np.float32))
    expected = demo_net(x).asnumpy()
    arch = demo_flags.arch_name(name)
    cfg = load_config(None, ["data.name=cifar100", f"model.arch={arch}"])
    converted = str(tmp_path / "converted.ckpt")
    _, _, classes, _, _ = convert(arch, path, converted)
    assert classes == 100
    for source in (converted, path):  # the converted file, and the demo's file read directly
        net = network_from_checkpoint(cfg, source).net
        np.testing.assert_allclose(net(x).asnumpy(), expected, atol=1e-5, rtol=0)
    # as a frozen teacher (BatchNorm folded into the demo's 'same'-padded convolutions)
    teacher = FrozenTeacher(network_from_checkpoint(cfg, converted).net)
    np.testing.assert_allclose(teacher(x).asnumpy(), expected, atol=1e-5, rtol=0)
    if name.startswith("ResNet"):  # the test can fail: symmetric padding gives other logits
        assert str(read_meta(converted)[0]["padding"]) == "same"
        plain = create_model(arch, 100)
        ms.load_param_into_net(plain, ms.load_checkpoint(converted))
        plain.set_train(False)
        assert np.abs(plain(x).asnumpy() - expected).max() > 1e-3


def _logits(net, x):
    net.set_train(False)
    return net(x).asnumpy()


@pytest.mark.parametrize("name", ["ResNet14", "VGG8", "ResNet20", "VGG11"])
def test_an_ats_ms_checkpoint_of_the_demo_variant_loads_into_the_demo(name, tmp_path, pynative):
    """ats_ms -> demo: the demo's variant (what demo command lines and the demo configs build) fills every
    parameter of the demo's own network, nothing left over, and gives the same logits.  The references'
    variant does not: a ResNet loads without error but computes other logits (padding); the demo's VGG
    silently ignores the conv biases."""
    from ats_ms.engine.checkpoint import save_weights
    arch = demo_flags.arch_name(name)
    variant = {"padding": "same"} if arch.startswith("resnet") else {"conv_bias": False}
    x = ms.Tensor(np.random.RandomState(2).randn(2, 3, 32, 32).astype(np.float32))
    for options, same in ((variant, True), ({}, False)):
        ms.set_seed(4)
        ours = randomize_batchnorm(create_model(arch, 100, **options), seed=1)
        if not options and arch.startswith("vgg"):  # trained biases are not zero
            for pname, param in ours.parameters_and_names():
                if pname.endswith(".bias") and pname.startswith("block"):
                    param.set_data(ms.Tensor(np.full(param.shape, 0.3, np.float32)))
        path = str(tmp_path / f"{arch}.ckpt")
        save_weights(ours, path, {"arch": arch, **options})
        theirs = demo_network(name)
        not_loaded, unused = ms.load_param_into_net(theirs, {k: v for k, v in ms.load_checkpoint(path).items()
                                                               if "." in k})
        assert not_loaded == []
        assert (unused == []) == (same or arch.startswith("resnet")), unused
        gap = np.abs(_logits(theirs, x) - _logits(ours, x)).max()
        assert (gap < 1e-5) == same, (options, gap)


def test_flag_mapping_and_the_demos_defaults():
    recipe, overrides, _ = _flags("--dataset", "cifar100", "--data_dir", "/d", "--net_name", "VGG8", "--t_net_name",
                                  "ResNet110", "--kd_way", "ATS", "--tp_tau", "4.0", "--t_tau", "2.0", "--s_tau", "1.0",
                                  "--lamb", "0.3", "--epoches", "2", "--lr", "0.03", "--batch_size", "128",
                                  "--ckpt_dir", "./ckpts", "--ckpt_name", "cifar100-ResNet110-VGG8-ATS.ckpt",
                                  "--log_dir", "./logs", "--download", "False")
    cfg = load_config(None, overrides, recipe=recipe)
    assert (cfg.data.name, cfg.data.root, cfg.data.download, cfg.model.arch) == ("cifar100", "/d", False, "vgg8")
    assert (cfg.distill.method, cfg.distill.tau_target, cfg.distill.tau_wrong, cfg.distill.tau_student) == \
        ("ats", 4.0, 2.0, 1.0)
    assert (cfg.distill.kd_weight, cfg.distill.ce_weight) == (0.3, pytest.approx(0.7))
    assert cfg.experiment.output_dir == "./ckpts" and cfg.experiment.name == "cifar100-ResNet110-VGG8-ATS"
    assert cfg.checkpoint.copy_last_to == os.path.join("./ckpts", "cifar100-ResNet110-VGG8-ATS.ckpt")
    assert cfg.logging.also_log_to == os.path.join("./logs", "classify.log")
    assert cfg.teacher.arch == "resnet110" and cfg.teacher.checkpoint == os.path.join("./ckpts", "cifar100-ResNet110.ckpt")
    assert cfg.optim.weight_decay == 0.0 and cfg.schedule.policy == "poly" and cfg.data.std == [0.2023, 0.1994, 0.2010]
    assert cfg.model.conv_bias is False  # the demo's VGG; model.conv_bias=true after the flags builds the references'
    _, overrides, notes = _flags("--net_name", "ResNet110")
    assert "model.padding=same" in overrides and any("model.padding=symmetric builds" in n for n in notes)
    _, overrides, _ = _flags("--net_name", "VGG8")
    assert load_config(None, overrides + ["model.conv_bias=true"], recipe="demo").model.conv_bias is True
    # run_distill.py's defaults: --kd_way ATS, --t_tau 3.0 (also for ATS), --tp_tau 4.0, VGG8 from ResNet14, ./ckpts/
    _, overrides, _ = _flags("--kd_way", "ATS")
    cfg = load_config(None, overrides, recipe="demo")
    assert (cfg.distill.tau_target, cfg.distill.tau_wrong, cfg.distill.kd_weight) == (4.0, 3.0, 0.5)
    assert (cfg.model.arch, cfg.teacher.arch, cfg.experiment.output_dir) == ("vgg8", "resnet14", "./ckpts/")
    assert (cfg.schedule.epochs, cfg.optim.lr, cfg.data.batch_size, cfg.data.download) == (240, 0.03, 128, True)
    # TS scales every class by --t_tau and ignores --tp_tau; --net/--n_layer are unused, as in the demo
    _, ts, notes = _flags("--kd_way", "TS", "--tp_tau", "9", "--t_tau", "4", "--t_net", "VGG", "--t_n_layer", "8")
    ts_cfg = load_config(None, ts, recipe="demo")
    assert (ts_cfg.distill.method, ts_cfg.distill.tau_target, ts_cfg.distill.tau_wrong) == ("ts", 4.0, 4.0)
    assert ts_cfg.teacher.arch == "resnet14" and any("--t_net VGG is not used" in n for n in notes)
    assert any("--tp_tau 9 is ignored by TS" in n for n in notes)
    # run_classify.py: no distillation flag means no distillation; --net_name (default ResNet14) picks the net
    _, plain, _ = _flags("--net", "VGG", "--n_layer", "8")
    plain_cfg = load_config(None, plain, recipe="demo")
    assert plain_cfg.model.arch == "resnet14" and plain_cfg.distill.method == "none"


def test_demo_recipe_schedule_is_the_demos():
    cfg = load_config(os.path.join(REPO, "configs/cifar100/demo/resnet14_to_vgg8/ats.yaml"))
    lrs = create_scheduler(cfg.schedule, cfg.optim.lr, 100)
    # the demo: 0.001 + (0.03 - 0.001) * i / 300 during 3 warm-up epochs, then 0.03 * (1 - t)^2
    np.testing.assert_allclose(lrs[:2], [0.001, 0.001 + 0.029 / 300], rtol=1e-5)
    assert lrs[300] == pytest.approx(0.03) and lrs[300 + 11850] == pytest.approx(0.03 * 0.25, rel=1e-4)


def _demo_lr(lr_max, warmup_epochs, total_epochs, steps):
    """The demo's src/utils.get_lr, as the demo's source defines it: linear warm-up from 0.001, then lr_max (1 - t)^2."""
    total, warm = total_epochs * steps, warmup_epochs * steps
    return np.array([0.001 + (lr_max - 0.001) / warm * i if i < warm
                     else lr_max * (1.0 - (i - warm) / (total - warm)) ** 2 for i in range(total)], np.float32)


SCRIPTS = {  # each demo script's command line for ResNet14 (scripts/*.sh), EPOCHES=2
    "run_teacher.sh": "--dataset cifar100 --data_dir ./data --download True --n_classes 100 --net ResNet --n_layer 14 "
                      "--net_name ResNet14 --epoches 2 --lr 0.03 --momentum 0.9 --batch_size 128 --ckpt_dir ./ckpts "
                      "--log_dir ./logs --log_name teacher.log --ckpt_name cifar100-ResNet14.ckpt",
    "run_student.sh": "--dataset cifar100 --data_dir ./data --download True --n_classes 100 --net VGG --n_layer 8 "
                      "--net_name VGG8 --epoches 2 --lr 0.03 --momentum 0.9 --batch_size 128 --ckpt_dir ./ckpts "
                      "--log_dir ./logs --log_name student-nokd.log --ckpt_name cifar100-VGG8.ckpt",
    "run_ts.sh": "--dataset cifar100 --data_dir ./data --download True --n_classes 100 --t_net ResNet --t_n_layer 14 "
                 "--t_net_name ResNet14 --net VGG --n_layer 8 --net_name VGG8 --kd_way TS --lamb 0.5 --tp_tau 4.0 "
                 "--t_tau 4.0 --s_tau 1.0 --epoches 2 --lr 0.03 --momentum 0.9 --batch_size 128 --ckpt_dir ./ckpts "
                 "--log_dir ./logs --log_name student-kd-ts.log --ckpt_name cifar100-ResNet14-VGG8-TS.ckpt",
    "run_ats.sh": "--dataset cifar100 --data_dir ./data --download True --n_classes 100 --t_net ResNet --t_n_layer 14 "
                  "--t_net_name ResNet14 --net VGG --n_layer 8 --net_name VGG8 --kd_way ATS --lamb 0.5 --tp_tau 4.0 "
                  "--t_tau 2.0 --s_tau 1.0 --epoches 2 --lr 0.03 --momentum 0.9 --batch_size 128 --ckpt_dir ./ckpts "
                  "--log_dir ./logs --log_name student-kd-ts.log --ckpt_name cifar100-ResNet14-VGG8-ATS.ckpt",
    "run_export.sh": "--device CPU --device_id 0 --n_classes 100 --t_net_name ResNet14 --net_name VGG8 --ckpt_dir ./ckpts "
                     "--ckpt_name cifar100-ResNet14-VGG8-ATS.ckpt",
}
TINY = ["data.train_samples=128", "data.test_samples=40"]  # the only change: fewer images (1 step per epoch)


def test_the_demos_five_scripts_do_what_the_demo_does(tmp_path, monkeypatch, capsys):
    """Run in a folder laid out like the demo's checkout (./data, ./ckpts, ./logs relative to it)."""
    from ats_ms import export, train
    monkeypatch.chdir(tmp_path)
    write_binary("data", "cifar100", random_split(256, 100, 1), random_split(40, 100, 2))

    def run(script, *extra):
        code = run_cli((export if script == "run_export.sh" else train).main, SCRIPTS[script].split() + list(extra))
        out, err = capsys.readouterr()
        assert code == 0, out[-3000:] + err[-3000:]
        return out

    def config(run_name):
        return load_config(os.path.join("ckpts", run_name, "config.yaml"))

    def loads_into_the_demo(path, demo_name):
        """The file a script wrote fills the demo's own network and gives ats_ms's logits for it."""
        ours = network_from_checkpoint(load_config(None, ["data.name=cifar100", "model.num_classes=100",
                                                          f"model.arch={demo_flags.arch_name(demo_name)}"]), path).net
        theirs = demo_network(demo_name)
        not_loaded, unused = ms.load_param_into_net(theirs, {k: v for k, v in ms.load_checkpoint(path).items() if "." in k})
        assert not_loaded == [] and unused == [], (not_loaded, unused)
        x = ms.Tensor(np.random.RandomState(1).randn(2, 3, 32, 32).astype(np.float32))
        np.testing.assert_allclose(_logits(theirs, x), _logits(ours, x), atol=1e-5)

    run("run_teacher.sh", *TINY)
    teacher = config("cifar100-ResNet14")
    assert os.path.isfile("ckpts/cifar100-ResNet14.ckpt")  # where the demo's teacher lands
    assert teacher.model.padding == "same" and str(read_meta("ckpts/cifar100-ResNet14.ckpt")[0]["padding"]) == "same"
    loads_into_the_demo("ckpts/cifar100-ResNet14.ckpt", "ResNet14")
    assert str(read_meta("ckpts/cifar100-ResNet14.ckpt")[0]["arch"]) == "resnet14"
    assert "eval epoch 2" in open("logs/teacher.log").read()  # the demo's --log_dir / --log_name
    steps = 128 // 128
    np.testing.assert_allclose(create_scheduler(teacher.schedule, teacher.optim.lr, steps), _demo_lr(0.03, 3, 2, steps),
                               rtol=1e-6)
    assert (teacher.optim.momentum, teacher.optim.weight_decay, teacher.data.batch_size) == (0.9, 0.0, 128)
    assert teacher.data.mean == [0.4914, 0.4822, 0.4465] and teacher.data.std == [0.2023, 0.1994, 0.2010]

    run("run_student.sh", *TINY)
    assert config("cifar100-VGG8").distill.method == "none" and os.path.isfile("ckpts/cifar100-VGG8.ckpt")
    loads_into_the_demo("ckpts/cifar100-VGG8.ckpt", "VGG8")
    assert "eval epoch 2" in open("logs/student-nokd.log").read()

    for script, method, taus in (("run_ts.sh", "ts", (4.0, 4.0)), ("run_ats.sh", "ats", (4.0, 2.0))):
        out = run(script, *TINY)
        name = f"cifar100-ResNet14-VGG8-{method.upper()}"
        cfg = config(name)
        d = cfg.distill
        assert (d.method, d.tau_target, d.tau_wrong, d.tau_student, d.ce_weight, d.kd_weight, d.form) == \
            (method, *taus, 1.0, 0.5, 0.5, "soft_ce")
        # the distillation finds the teacher the first script wrote, and says so (its saved config: absolute)
        assert cfg.teacher.checkpoint == os.path.abspath(os.path.join("./ckpts", "cifar100-ResNet14.ckpt"))
        assert "teacher: ./ckpts/cifar100-ResNet14.ckpt" in out and "teacher resnet14: top1" in out
        assert os.path.isfile(f"ckpts/{name}.ckpt")
        loads_into_the_demo(f"ckpts/{name}.ckpt", "VGG8")
        records = [json.loads(line) for line in open(f"ckpts/{name}/metrics.jsonl")]
        assert [r["epoch"] for r in records if r["type"] == "eval"] == [1, 2]
        assert all("train_top1" in r for r in records if r["type"] == "eval")  # the demo's TrAcc
    log = open("logs/student-kd-ts.log").read()  # run_ats.sh logs there too, as in the demo
    assert "method    ts:" in log and "method    ats:" in log

    run("run_export.sh")
    mindir = "ckpts/cifar100-ResNet14-VGG8-ATS_mindir.mindir"
    assert os.path.isfile(mindir)
    student = create_model("vgg8", 100, conv_bias=False)
    weights = {k: v for k, v in ms.load_checkpoint("ckpts/cifar100-ResNet14-VGG8-ATS.ckpt").items() if "." in k}
    assert ms.load_param_into_net(student, weights) == ([], [])
    student.set_train(False)
    x = ms.Tensor(np.random.RandomState(1).randn(1, 3, 32, 32).astype(np.float32))
    np.testing.assert_allclose(ms.nn.GraphCell(ms.load(mindir))(x).asnumpy(), student(x).asnumpy(), atol=1e-4)

    # the demo's default student --ckpt_name is the teacher's own file: ats_ms refuses to overwrite it
    code = run_cli(train.main, ["--net_name", "VGG8", "--kd_way", "ATS", "--data_dir", "./data", *TINY])
    _, err = capsys.readouterr()
    assert code == 2 and "already holds a finished run" in " ".join(err.split())


def test_a_demo_trained_teacher_file_is_read_as_the_demo_built_it(tmp_path, monkeypatch, capsys):
    """A teacher trained by the demo itself (its file, no ats_ms metadata): the distillation reads it with
    the demo's padding, evaluates it exactly as the reference network does, and says how it read it."""
    from ats_ms import train
    monkeypatch.chdir(tmp_path)
    write_binary("data", "cifar100", random_split(256, 100, 1), random_split(40, 100, 2))
    ms.set_seed(5)
    demo_teacher = randomize_batchnorm(demo_network("ResNet14"))
    os.makedirs("ckpts")
    ms.save_checkpoint(demo_teacher, "ckpts/cifar100-ResNet14.ckpt")
    code = run_cli(train.main, SCRIPTS["run_ats.sh"].split() + TINY + ["--epoches", "1"])
    out, err = capsys.readouterr()
    assert code == 0, out[-2000:] + err[-2000:]
    assert "read as a model-zoo demo checkpoint (padding same" in out
    teacher_eval = [json.loads(line) for line in open("ckpts/cifar100-ResNet14-VGG8-ATS/metrics.jsonl")][0]
    assert teacher_eval["type"] == "teacher_eval"
    # the reference: the demo network itself on the same normalised test images; the mean cross-entropy
    # (a continuous quantity) must agree, which it would not with the other padding
    from ats_ms.data import create_dataset
    cfg = load_config(None, ["data.name=cifar100", "data.root=data", "data.test_samples=40",
                             "data.mean=[0.4914,0.4822,0.4465]", "data.std=[0.2023,0.1994,0.2010]"])
    data, _ = create_dataset(cfg.data, "test")
    losses = []
    for x, y in data.create_tuple_iterator(num_epochs=1):
        z = demo_teacher(x).asnumpy().astype(np.float64)
        z = z - z.max(1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
        losses.extend(-log_p[np.arange(len(y)), y.asnumpy()])
    assert teacher_eval["count"] == 40 and teacher_eval["loss"] == pytest.approx(np.mean(losses), rel=1e-4)
