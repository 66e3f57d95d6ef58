"""Every command given bad input: exit code 2, one paragraph naming the problem, no traceback, and no
change to an existing run folder (byte for byte) or to anything else on disk.

Commands run in-process through the same ``run_cli`` wrapper as the command line (an exception that
escapes it fails the test); ``run_train.sh`` runs as a subprocess.
"""
import hashlib
import json
import os
import pickle
import shutil
import subprocess

import pytest
import yaml

from ats_ms import analyze, chain, configs as configs_cmd, convert, eval as eval_cmd, export, report, sweep, train
from ats_ms.cli import run_cli
from ats_ms.config import load_config
from ats_ms.data import __main__ as data_cmd
from ats_ms.engine.trainer import train as train_run
from conftest import REPO
from train_helpers import tiny_overrides

TINY = ["data.train_samples=128", "data.test_samples=64"]


def _snapshot(folder):
    """Every file and folder under ``folder`` (names and content hashes): byte-identical means equal snapshots,
    and an empty folder left behind counts as a change."""
    snap = {}
    for dirpath, dirs, files in os.walk(folder):
        for name in dirs:
            snap[os.path.relpath(os.path.join(dirpath, name), folder) + "/"] = "folder"
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                snap[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return snap


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_input")
    out = str(root / "runs")
    train_run(load_config(None, tiny_overrides(out, "done", epochs=1) + TINY))
    done = os.path.join(out, "done")
    files = root / "files"
    files.mkdir()
    (files / "latin1.yaml").write_bytes("experiment: {name: caf\xe9}\n".encode("latin-1"))
    (files / "dup_key.yaml").write_text("optim: {lr: 0.1}\nschedule:\n  epochs: 3\n  epochs: 30\n")
    (files / "dup_section.yaml").write_text("optim: {lr: 0.1}\noptim: {momentum: 0.5}\n")
    (files / "broken.yaml").write_text("optim: {lr: [0.1\n")
    (files / "garbage.ckpt").write_bytes(b"not a checkpoint at all" * 10)
    (files / "notes.txt").write_text("my notes")
    (files / "not_tar.tar.gz").write_bytes(b"plain bytes, no tar here" * 40)
    foreign = os.path.join(out, "foreign")
    os.makedirs(foreign)
    with open(os.path.join(foreign, "thesis.tex"), "w") as f:
        f.write("a user's file")
    (files / "ok_chain.yaml").write_text(yaml.safe_dump({"name": "c", "output_dir": out, "stages": [
        {"config": os.path.join(REPO, "configs", "quickstart", "digits_teacher.yaml")},
        {"config": os.path.join(REPO, "configs", "quickstart", "digits_student_ats.yaml")}]}))
    bad_chain = files / "chain.yaml"
    quick = os.path.join(REPO, "configs", "quickstart")
    bad_chain.write_text(yaml.safe_dump({"name": "c", "output_dir": out, "stages": [
        {"config": os.path.join(quick, "digits_teacher.yaml")},
        {"config": os.path.join(quick, "digits_student_ats.yaml"), "overrides": ["model.arch=resnet9"]}]}))
    (files / "escape_chain.yaml").write_text(yaml.safe_dump({"name": "../up", "output_dir": out, "stages": [
        {"config": os.path.join(quick, "digits_teacher.yaml")}, {"config": os.path.join(quick, "digits_student_ats.yaml")}]}))
    # a 500-byte alias bomb: each level names the previous one nine times (9^8 strings if expanded)
    levels = ["&l0 [x, x, x, x, x, x, x, x, x]"] + [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 8)]
    (files / "alias_bomb.yaml").write_text("experiment:\n  name: [" + ", ".join(levels) + "]\n")
    (files / "a_folder.yaml").mkdir()
    (files / "root_is_a_file").write_text("not a data folder")
    from layout_fixtures import imagenet_tree, tiny_imagenet_tree
    imagenet_tree(str(files / "imagenet_empty_class"), train=1, val=1)
    os.makedirs(files / "imagenet_empty_class" / "train" / "n09999999")
    tiny_imagenet_tree(str(files / "tiny_unknown_wnid"), train=1, val=1)
    with open(files / "tiny_unknown_wnid" / "val" / "val_annotations.txt", "a") as f:
        f.write("val_0.JPEG\tn00000001\t0\t0\t1\t1\n")
    from layout_fixtures import cub_tree, dogs_tree, speech_commands_tree
    dogs_tree(str(files / "dogs_empty_breed"))
    os.makedirs(files / "dogs_empty_breed" / "Images" / "n02080000-Aaa_empty")
    imagenet_tree(str(files / "devkit_not_mat"), train=1, val=1, val_layout="devkit")
    (files / "devkit_not_mat" / "ILSVRC2012_devkit_t12" / "data" / "meta.mat").write_bytes(b"MATLAB? no" * 20)
    imagenet_tree(str(files / "kaggle_no_prediction"), train=1, val=1, val_layout="kaggle")
    with open(files / "kaggle_no_prediction" / "LOC_val_solution.csv", "a") as f:
        f.write("ILSVRC2012_val_00000099\n")
    cub_tree(str(files / "cub_latin1"))
    with open(files / "cub_latin1" / "classes.txt", "ab") as f:
        f.write("4 004.Gr\xfcnfink\n".encode("latin-1"))
    speech_commands_tree(str(files / "speech_empty_lists"), speakers=2, background=False)
    for name in ("validation_list.txt", "testing_list.txt"):
        (files / "speech_empty_lists" / name).write_text("")
    corrupt = os.path.join(str(root), "reports", "corrupt")
    shutil.copytree(done, corrupt)
    with open(os.path.join(corrupt, "summary.json"), "w") as f:
        f.write("{ torn")
    return {"out": out, "done": done, "files": str(files), "foreign": foreign, "root": str(root),
            "ckpt": os.path.join(done, "best.ckpt"), "config": os.path.join(done, "config.yaml"),
            "reports": os.path.dirname(corrupt)}


def T(*extra, name="new_run"):
    """A tiny training command line into a new run folder (which must never be created by a bad input)."""
    return lambda w: ["--config", os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml"),
                      f"experiment.output_dir={w['out']}", f"experiment.name={name}", *TINY, *extra]


def KD(*extra):
    return lambda w: T("distill.method=ats", "teacher.arch=resnet8", f"teacher.checkpoint={w['ckpt']}", *extra)(w)


CASES = [
    # train: config problems, caught before MindSpore is even imported
    ("train", T("optim.lrr=0.1"), "Did you mean 'lr'"),
    ("train", T("model.arch=resnet9"), "'model.arch' is 'resnet9', which is not a network ats_ms knows"),
    ("train", KD("teacher.arch=vgg7"), "'teacher.arch' is 'vgg7'"),
    ("train", T("optim.lr=.nan"), "not a finite number"),
    ("train", KD("distill.tau_target=.inf"), "not a finite number"),
    ("train", T("experiment.seed=-1"), "'experiment.seed' must be between 0 and"),
    ("train", T("experiment.seed=4294967296"), "'experiment.seed' must be between 0 and"),
    ("train", T("schedule.epochs=100000000"), "surely a typo"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "latin1.yaml")], "is not UTF-8 text"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "dup_key.yaml")], "the key 'epochs' appears twice"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "dup_section.yaml")], "the key 'optim' appears twice"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "broken.yaml")], "is not valid YAML"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "missing.yaml")], "does not exist"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "alias_bomb.yaml")], "expands to more than"),
    ("train", lambda w: ["--config", os.path.join(w["files"], "a_folder.yaml")], "is a folder, not a config file"),
    ("train", lambda w: T(f"data.root={os.path.join(w['files'], 'root_is_a_file')}", "data.name=cifar10")(w),
     "is a file, not a folder"),
    ("train", lambda w: T(f"data.root={os.path.join(w['files'], 'root_is_a_file')}", "data.name=image_folder")(w),
     "is a file, not a folder"),
    ("train", lambda w: T("data.name=imagenet", f"data.root={os.path.join(w['files'], 'imagenet_empty_class')}")(w),
     "n09999999' holds no images"),
    ("train", lambda w: T("data.name=tiny_imagenet", f"data.root={os.path.join(w['files'], 'tiny_unknown_wnid')}",
                          "data.batch_size=2")(w),
     "wnid 'n00000001'"),
    ("train", lambda w: T("data.name=imagenet", f"data.root={w['files']}")(w), "Training folder"),
    ("train", T("model.arch=mindcv:resnet19"), "mindcv"),
    ("train", lambda w: T("data.name=stanford_dogs", f"data.root={os.path.join(w['files'], 'dogs_empty_breed')}")(w),
     "n02080000-Aaa_empty' holds no images"),
    ("train", lambda w: T("data.name=imagenet", f"data.root={os.path.join(w['files'], 'devkit_not_mat')}",
                          "data.batch_size=2")(w),
     "cannot be read as the ILSVRC-2012 devkit's meta.mat"),
    ("train", lambda w: T("data.name=imagenet", f"data.root={os.path.join(w['files'], 'kaggle_no_prediction')}",
                          "data.batch_size=2")(w),
     "LOC_val_solution.csv' row 5 has no PredictionString"),
    ("train", lambda w: T("data.name=cub200", f"data.root={os.path.join(w['files'], 'cub_latin1')}")(w),
     "classes.txt' line 4 is not UTF-8 text"),
    ("train", lambda w: T("data.name=speech_commands", f"data.root={os.path.join(w['files'], 'speech_empty_lists')}",
                          "model.arch=resnet8", "data.batch_size=2")(w),
     "The test split of speech_commands at"),
    ("train", T("schedule.policy=cosine", "schedule.min_lr=1.0", "optim.lr=0.05"),
     "'schedule.min_lr' (1) is above optim.lr (0.05)"),
    ("train", lambda w: T(f"checkpoint.resume={os.path.join(w['done'], 'train_state.ckpt')}", "data.batch_size=32",
                          name="fork_changed")(w),
     lambda w: f"Resume with the config the run was trained with ({w['done']}/config.yaml)"),
    ("train", T("model.pretrained=true"), "exist for mindcv:<name> networks only"),
    ("train", T(name="n" * 300), "(File name too long). Nothing was half-written: no file of the run was written. "
                                 "The path is longer than the file system allows"),
    ("train", lambda w: T(f"experiment.output_dir={os.path.join(w['files'], 'notes.txt')}")(w),
     "A part of that path is a file, not a folder"),
    ("train", lambda w: T("distill.method=ats", "teacher.arch=resnet8",
                          f"teacher.checkpoint={os.path.join(w['files'], 'garbage.ckpt')}")(w),
     "The teacher checkpoint"),
    ("train", T(name="../../escape"), "must be one plain folder name"),
    ("train", T(name="/tmp/absolute"), "must be one plain folder name"),
    ("train", T(name="."), "must be one plain folder name"),
    ("train", T("distill.method=ats"), "needs a trained teacher"),
    ("train", KD("distill.method=ts", "distill.tau_wrong=2"), "is symmetric temperature scaling"),
    ("train", KD("distill.cache_teacher_logits=true"), "data.augment is true"),
    ("train", T("checkpoint.resume=/nowhere/train_state.ckpt"), "is neither 'none', 'auto' nor an existing file"),
    ("train", T("model.padding=same", "model.arch=vgg8"), "exists for the CIFAR ResNets only"),
    ("train", lambda w: ["--kd_way", "XYZ", "--ckpt_dir", w["out"], "--ckpt_name", "demo_new.ckpt"],
     "--kd_way must be TS or ATS"),
    # train: problems found while building, still before any file is written
    ("train", KD("teacher.checkpoint=/nowhere/t.ckpt"), "does not exist"),
    ("train", KD("teacher.arch=resnet20"), "does not fit the network for 'resnet20'"),
    ("train", lambda w: T("distill.method=ats", "teacher.arch=resnet8",
                          f"teacher.checkpoint={os.path.join(w['files'], 'garbage.ckpt')}")(w), "cannot be read"),
    ("train", T("data.name=cifar10", "data.root=/nowhere/cifar"), "Data root '/nowhere/cifar' does not exist"),
    ("train", lambda w: T(f"checkpoint.copy_last_to={os.path.join(w['files'], 'notes.txt')}")(w),
     "never overwrites a file it did not write"),
    # train: the existing run folder is protected
    ("train", lambda w: ["--config", w["config"]], "already holds a finished run"),
    ("train", lambda w: ["--config", w["config"], "--resume", "data.batch_size=32"],
     "trained with another config: data.batch_size: 64 -> 32"),
    ("train", lambda w: ["--config", w["config"], "--resume", "distill.method=ats", "teacher.arch=resnet8",
                         f"teacher.checkpoint={w['ckpt']}"], "distill.method: 'none' -> 'ats'"),
    ("train", lambda w: T(f"checkpoint.resume={os.path.join(w['done'], 'train_state.ckpt')}", name="foreign")(w),
     "A state is resumed only into its own run folder, or into a new, empty one"),
    ("train", lambda w: T("data.batch_size=16", name="foreign")(w), "holds files that are not an ats_ms run"),
    # eval
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", w["ckpt"], "model.num_classes=5"],
     "has a 10-class classifier but the config expects 5 classes"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", w["ckpt"], "--output", "/nowhere/e.json"],
     "the folder '/nowhere' does not exist"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", "/nowhere/best.ckpt"], "does not exist"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", w["done"]], "is a run folder, not a checkpoint"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", os.path.join(w["files"], "garbage.ckpt")],
     "The checkpoint"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", os.path.join(w["files"], "garbage.ckpt")],
     "cannot be read as a MindSpore checkpoint"),
    ("eval", lambda w: ["--config", w["config"], "--checkpoint", w["ckpt"], "model.arch=resnet14"],
     "does not fit the network for 'resnet14'"),
    # export
    ("export", lambda w: ["--config", w["config"], "--checkpoint", w["ckpt"], "--batch-size", "0"],
     "--batch-size must be at least 1"),
    ("export", lambda w: ["--checkpoint", w["ckpt"]], "Give both --config"),
    ("export", lambda w: ["--config", w["config"], "--checkpoint", w["ckpt"], "model.num_classes=100"],
     "has a 10-class classifier but the config expects 100"),
    # convert
    ("convert", lambda w: ["--arch", "resnet8", "--input", w["ckpt"], "--output", w["ckpt"]],
     "is the same file as the input"),
    ("convert", lambda w: ["--arch", "resnet8", "--input", w["ckpt"], "--output", os.path.join(w["root"], "c.ckpt"),
                           "--num-classes", "0"], "The class count (--num-classes) must be at least 1"),
    ("convert", lambda w: ["--arch", "resnet9", "--input", w["ckpt"], "--output", os.path.join(w["root"], "c.ckpt")],
     "'--arch' is 'resnet9'"),
    ("convert", lambda w: ["--arch", "resnet8", "--input", "/nowhere/x.ckpt", "--output",
                           os.path.join(w["root"], "c.ckpt")], "does not exist"),
    # analyze
    ("analyze", lambda w: ["--config", w["config"], "--teacher", "resnet8"], "must be ARCH:CHECKPOINT"),
    ("analyze", lambda w: ["--config", w["config"], "--teacher", f"resnet9:{w['ckpt']}"],
     "'--teacher resnet9:"),
    ("analyze", lambda w: ["--config", w["config"], "--teacher", "mindcv:resnet18"], "must be ARCH:CHECKPOINT"),
    ("analyze", lambda w: ["--config", w["config"], "--teacher", f"resnet8:{w['ckpt']}", "--pair", "4-2"],
     "must be TAU_TARGET:TAU_WRONG"),
    ("analyze", lambda w: ["--config", w["config"], "--teacher", f"resnet14:{w['ckpt']}", "--output",
                           os.path.join(w["root"], "new_analysis")], "does not fit the network for 'resnet14'"),
    # sweep and chain: every point / stage validated before the first trains
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "model.arch=resnet8,resnet9", *T()(w)[2:]],
     "sweep point 'arch=resnet9__seed=0'"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--seeds", "one", *T()(w)[2:]], "--seeds must be comma-separated"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--shared-teacher", "--group-size", "0", *T()(w)[2:]],
     "--group-size must be at least 1"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "distill.tau_target,distill.tau_wrong=4:2,3", *T()(w)[2:]],
     "the point '3' has 1 values for the 2 keys"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "distill.tau_target=4,6", "--grid",
                         "distill.tau_target,distill.tau_wrong=2:1", *T()(w)[2:]], "is on two --grid axes"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "optim.lr=0.1,1e-1", *T()(w)[2:]],
     "lists the same point twice ('0.1' and '1e-1')"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--seeds", "0,0", *T()(w)[2:]], "lists seed 0 more than once"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "optim.lr=0.1,0.2", *T()(w)[2:], "optim.lr=0.3"],
     "is on a --grid axis and also set by the override 'optim.lr=0.3'"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--grid", "distill.tau_target", *T()(w)[2:]],
     "is not of the form section.key=v1,v2"),
    ("sweep", lambda w: ["--config", T()(w)[1], "--seeds", "0,1", *T()(w)[2:],
                         f"checkpoint.resume={os.path.join(w['done'], 'train_state.ckpt')}"],
     "a sweep resumes each point from its own folder"),
    ("chain", lambda w: ["--config", os.path.join(w["files"], "ok_chain.yaml"), "--",
                         f"checkpoint.resume={os.path.join(w['done'], 'train_state.ckpt')}"],
     "a chain resumes each stage from its own folder"),
    ("chain", lambda w: ["--config", os.path.join(w["files"], "chain.yaml")], "chain stage 1"),
    ("chain", lambda w: ["--config", "/nowhere/chain.yaml"], "does not exist"),
    ("chain", lambda w: ["--config", os.path.join(w["files"], "escape_chain.yaml")], "must be one plain folder name"),
    ("chain", lambda w: ["--config", os.path.join(w["files"], "escape_chain.yaml")], "escape_chain.yaml': 'name' is "),
    # report, data
    ("report", lambda w: [w["reports"], "--output", "/nowhere/r.md"], "the folder '/nowhere' does not exist"),
    ("report", lambda w: ["/nowhere/runs"], "is not a folder of runs"),
    ("data", lambda w: ["--name", "digits", "--throughput", "--batches", "0"], "--batches must be at least 1"),
    ("data", lambda w: ["--name", "digits", "--throughput", "--workers", "0,2"], "--workers must be comma-separated"),
    ("data", lambda w: ["--name", "cifar10", "--root", "/nowhere"], "does not exist"),
    ("data", lambda w: ["--name", "speech_commands", "--root", os.path.join(w["files"], "speech_empty_lists"),
                        "data.batch_size=2"], "holds no samples"),
    ("train", lambda w: ["--output-dir", "runs2"] + T()(w), "--output-dir runs2 is a quick-start flag"),
    ("configs", lambda w: ["nonsense"], "No shipped config starts with 'nonsense'"),
    ("data", lambda w: ["--name", "cifar10", "--root", os.path.join(os.path.dirname(w["root"]), "dl"), "data.download=true",
                        f"data.url=file://{os.path.join(w['files'], 'not_tar.tar.gz')}",
                        f"data.md5={hashlib.md5(b'plain bytes, no tar here' * 40).hexdigest()}"],
     "is not a tar archive"),
]
COMMANDS = {"train": train.main, "eval": eval_cmd.main, "export": export.main, "convert": convert.main,
            "analyze": analyze.main, "sweep": sweep.main, "chain": chain.main, "report": report.main,
            "data": data_cmd.main, "configs": configs_cmd.main}


@pytest.mark.parametrize("command,argv,message", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_clear_paragraph_and_changes_nothing(world, capsys, command, argv, message):
    before = _snapshot(world["root"])
    code = run_cli(COMMANDS[command], argv(world))
    out, err = capsys.readouterr()
    text = " ".join(err.split())
    message = message(world) if callable(message) else message
    assert code == 2, (out[-1500:], err[-1500:])
    assert message in text, text
    assert "Traceback" not in out + err
    assert err.strip().startswith("ats_ms:") and "error" in err.split(":")[1].lower()
    assert _snapshot(world["root"]) == before, "a bad input changed files on disk"
    assert not os.path.exists(os.path.join(world["out"], "new_run"))
    assert not os.path.exists(os.path.join(os.path.dirname(world["root"]), "escape"))
    assert "Free space" not in text or "No space left" in text  # a write failure is told by its own cause
    assert "training state" not in text or "train_state" in text or "--resume" in text
    assert "''" not in text  # no doubled quoting of a quoted value


def test_a_config_alias_bomb_is_refused_within_a_few_megabytes(world):
    import tracemalloc
    from ats_ms.common.errors import ConfigError
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="expands to more than"):
            load_config(os.path.join(world["files"], "alias_bomb.yaml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2 ** 20, peak


def test_an_unreadable_image_found_mid_epoch_names_the_file_and_the_run_resumes(tmp_path, capsys, monkeypatch):
    """With data.verify_images=false a broken file surfaces inside MindSpore's pipeline during training: one
    paragraph naming it and the check that finds them all; the run folder resumes once the file is fixed.
    MindSpore's decoder writes the file it could not decode into the working folder (abnormal_image.jpg), so the
    test works in its own folder."""
    import numpy as np
    from PIL import Image
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "images"
    for split in ("train", "val"):
        for c in ("a", "b"):
            (root / split / c).mkdir(parents=True)
            for i in range(4):
                Image.fromarray(np.full((8, 8, 3), 40 * i + (c == "b") * 100, np.uint8)).save(root / split / c / f"{i}.png")
    bad = root / "train" / "b" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a JPEG at all" * 3)
    args = ["--config", os.path.join(REPO, "configs", "quickstart", "digits_student_ce.yaml"), "data.name=image_folder",
            f"data.root={root}", "data.verify_images=false", "data.image_size=8", "data.batch_size=3",
            "data.train_samples=null", "schedule.epochs=1", f"experiment.output_dir={tmp_path / 'runs'}",
            "experiment.name=r"]
    assert run_cli(train.main, args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err and "C++" not in err
    assert f"'{bad}' cannot be read" in err and "data.verify_images=true" in err and "--resume" in err
    if os.path.exists(tmp_path / "abnormal_image.jpg"):  # the error names what MindSpore left in the working folder
        assert "MindSpore wrote the bytes it could not decode to ./abnormal_image.jpg" in err
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(bad, format="JPEG")  # the user replaces the file
    assert run_cli(train.main, args + ["--resume"]) == 0
    assert os.path.isfile(tmp_path / "runs" / "r" / "summary.json")


def test_corrupt_summary_is_skipped_with_a_warning(world, capsys):
    shutil.copytree(world["done"], os.path.join(world["reports"], "good"))
    try:
        code = run_cli(report.main, [world["reports"]])
        out, err = capsys.readouterr()
        assert code == 0 and "Traceback" not in err
        assert "warning: skipping" in err and os.path.join("corrupt", "summary.json") in err
        assert "| digits | - | resnet8 | none |" in out  # the good run is still reported
    finally:
        shutil.rmtree(os.path.join(world["reports"], "good"))


def test_malicious_cifar_pickle_is_refused_and_runs_nothing(tmp_path):
    """A python-release CIFAR file whose unpickling would create a file: refused, nothing executed."""
    from ats_ms.data import constants as C
    from ats_ms.data.cifar import _read_python
    from ats_ms.common.errors import DatasetError
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in C.PYTHON_FILES["cifar10"]["train"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": Payload(), b"labels": [0]}, f)
    pickle.loads(pickle.dumps(Payload()))  # the payload really works under plain pickle ...
    assert marker.exists()
    marker.unlink()
    with pytest.raises(DatasetError, match="asks to run code .*'posix.system'.* nothing was executed"):
        _read_python(str(folder), "cifar10", "train")
    assert not marker.exists()  # ... and the restricted reader never ran it


def test_run_train_sh_refuses_bad_input_before_launching(world):
    env = dict(os.environ, GLOG_v="3")
    script = os.path.join(REPO, "run_train.sh")
    cases = [(["--config", world["config"], "--devices", "0"], "--devices must be at least 1"),
             (["--config", world["config"], "--", "experiment.name=../x"], "must be one plain folder name"),
             (["--config", world["config"], "--", "model.arch=resnet9"], "Did you mean")]
    before = _snapshot(world["root"])
    for args, message in cases:
        proc = subprocess.run(["bash", script, "--dry-run", *args], capture_output=True, text=True, env=env, cwd=REPO)
        assert proc.returncode == 2 and message in " ".join(proc.stderr.split()), proc.stderr
        assert "Traceback" not in proc.stderr
    assert _snapshot(world["root"]) == before


def test_the_suite_covers_every_command():
    assert {c[0] for c in CASES} == set(COMMANDS) and len(CASES) >= 40
    json.dumps([c[2] for c in CASES if not callable(c[2])])


def test_an_export_that_fails_its_own_check_leaves_no_file(world, tmp_path, monkeypatch):
    """The reload check compares the exported MindIR with the checkpoint's network; a mismatch removes the
    file (simulated here by a loader that returns a different network's logits)."""
    import numpy as np
    import mindspore as ms
    from ats_ms.engine.restore import network_from_checkpoint
    from ats_ms.common.errors import AtsError
    from ats_ms.engine.export_model import export_and_verify
    net = network_from_checkpoint(load_config(world["config"], ["checkpoint.resume=none"]), world["ckpt"]).net

    class Wrong:
        def __init__(self, graph):
            pass

        def __call__(self, x):
            return ms.Tensor(np.ones((x.shape[0], 10), np.float32))

    monkeypatch.setattr(ms.nn, "GraphCell", Wrong)
    with pytest.raises(AtsError, match="nothing was written to .*, do not deploy an earlier copy"):
        export_and_verify(net, 8, 1, "MINDIR", str(tmp_path / "m.mindir"))
    assert os.listdir(tmp_path) == []  # neither the model nor the private folder it was written in


def test_tensorboard_asked_for_but_missing_names_its_extra(monkeypatch):
    import sys
    from ats_ms.engine.tensorboard import check_available
    from ats_ms.common.errors import AtsError
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    with pytest.raises(AtsError, match=r'pip install -e "\.\[tensorboard\]"'):
        check_available(load_config(None, ["logging.tensorboard=true"]).logging)
    check_available(load_config(None, []).logging)  # off: nothing needed


def test_analyze_reads_paths_with_equals_and_colons(tmp_path):
    weird = tmp_path / "tau_target=4__tau_wrong=2__seed=0"
    weird.mkdir()
    ckpt = weird / "a:b.ckpt"
    ckpt.write_bytes(b"x")
    assert analyze.parse_net(f"resnet8:{ckpt}", "--teacher") == ("resnet8", "resnet8", str(ckpt))
    assert analyze.parse_net(f"t4=resnet8:{ckpt}", "--teacher") == ("t4", "resnet8", str(ckpt))
