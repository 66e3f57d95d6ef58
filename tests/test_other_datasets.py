"""The ATS paper's other datasets in their release layouts: CUB-200-2011, Stanford Dogs and Google Speech Commands
(v0.02) - labels, splits, the errors for broken releases, and the shipped recipes trained for one epoch."""
import json
import os
import shutil

import numpy as np
import pytest

from ats_ms.config import load_config
from ats_ms.data import create_dataset
from ats_ms.data.speech import split_files
from ats_ms.common.errors import DatasetError
from conftest import REPO
from layout_fixtures import SPEECH_WORDS, cub_tree, dogs_tree, speech_commands_tree, write_wav

SMALL = ["schedule.epochs=1", "data.batch_size=2", "data.eval_batch_size=6", "data.num_parallel_workers=2",
         "logging.log_interval=1"]


def _labels(name, root, split, *extra):
    cfg = load_config(None, [f"data.name={name}", f"data.root={root}", "data.batch_size=2", "data.eval_batch_size=6",
                             *extra])
    data, info = create_dataset(cfg.data, split, ordered=True)
    batches = list(data.create_tuple_iterator(num_epochs=1, output_numpy=True))
    return [y for _, ys in batches for y in ys.tolist()], batches[0][0].shape[1:], info


def test_cub_and_dogs_follow_their_release_lists(tmp_path):
    cub_tree(str(tmp_path / "cub"))
    for split in ("train", "test"):
        labels, shape, info = _labels("cub200", tmp_path / "cub", split, "data.image_size=32")
        assert labels == [0, 0, 1, 1, 2, 2] and shape == (3, 32, 32) and info.class_names[0] == "001.Bird_1"
    folders = dogs_tree(str(tmp_path / "dogs"))
    labels, shape, info = _labels("stanford_dogs", tmp_path / "dogs", "test", "data.image_size=32")
    assert labels == [0, 0, 1, 1, 2, 2] and info.class_names == folders and info.num_samples == 6


def test_stray_entries_beside_the_breed_folders_shift_no_label(tmp_path):
    """A .DS_Store or a stray file in Images/ is not a breed; an empty breed folder is named, not a class."""
    folders = dogs_tree(str(tmp_path / "dogs"))
    images = tmp_path / "dogs" / "Images"
    (images / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (images / "README.txt").write_text("downloaded from the Stanford Dogs page")
    (images / folders[0] / "._n02085000_0.jpg").write_bytes(b"\0\5\26\7 macOS resource fork")
    for split in ("train", "test"):
        labels, _, info = _labels("stanford_dogs", tmp_path / "dogs", split, "data.image_size=32")
        assert info.class_names == folders and info.num_classes == 3 and labels == [0, 0, 1, 1, 2, 2]
    (images / "n02080000-Aaa_empty").mkdir()
    with pytest.raises(DatasetError, match="Breed folder '.*n02080000-Aaa_empty' holds no images"):
        _labels("stanford_dogs", tmp_path / "dogs", "train")


def test_hidden_and_stray_entries_are_no_classes_in_folder_layouts(tmp_path):
    """ImageNet's train/ and image folders take their classes from folders: hidden folders and files are not
    classes, hidden files are not images."""
    from layout_fixtures import WNIDS, imagenet_tree, write_jpeg
    root = tmp_path / "imagenet"
    imagenet_tree(str(root), train=2, val=1)
    write_jpeg(str(root / "train" / ".ipynb_checkpoints" / "x.JPEG"), 0, 1)
    (root / "train" / "LICENSE").write_text("terms")
    write_jpeg(str(root / "train" / WNIDS[0] / "._hidden.JPEG"), 0, 2)
    labels, _, info = _labels("imagenet", root, "train", "data.image_size=32")
    assert info.class_names == WNIDS and labels == [0, 0, 1, 1, 2, 2]
    folder = tmp_path / "folder"
    for split in ("train", "val"):
        for c in ("a", "b"):
            write_jpeg(str(folder / split / c / "0.jpg"), 0, 3)
        write_jpeg(str(folder / split / ".cache" / "0.jpg"), 0, 4)
        (folder / split / "notes.txt").write_text("x")
    labels, _, info = _labels("image_folder", folder, "train", "data.image_size=8")
    assert info.class_names == ["a", "b"] and sorted(labels) == [0, 1]


def test_broken_fine_grained_releases_are_named(tmp_path):
    cub_tree(str(tmp_path / "cub"))
    with open(tmp_path / "cub" / "classes.txt", "a") as f:
        f.write("4 004.Missing_Bird\n")
    with pytest.raises(DatasetError, match="classes with no image in images.txt .*004.Missing_Bird"):
        _labels("cub200", tmp_path / "cub", "train")
    os.remove(tmp_path / "cub" / "train_test_split.txt")
    with pytest.raises(DatasetError, match="train_test_split.txt' is missing"):
        _labels("cub200", tmp_path / "cub", "train")
    dogs_tree(str(tmp_path / "dogs"))
    shutil.rmtree(tmp_path / "dogs" / "Images" / "n02085001-Breed_1")
    with pytest.raises(DatasetError, match="names 'n02085001-Breed_1/n02085001_0.jpg', which is not under"):
        _labels("stanford_dogs", tmp_path / "dogs", "train")
    os.remove(tmp_path / "dogs" / "test_list.mat")
    with pytest.raises(DatasetError, match="test_list.mat' is missing"):
        _labels("stanford_dogs", tmp_path / "dogs", "test")


def test_speech_splits_put_every_file_in_exactly_one_split(tmp_path):
    root = tmp_path / "speech"
    expected = speech_commands_tree(str(root))
    words, official = split_files(str(root), "official")
    assert words == SPEECH_WORDS and {k: sorted(v) for k, v in official.items()} == {k: sorted(v) for k, v in expected.items()}
    _, paper = split_files(str(root), "paper")
    for splits in (official, paper):
        everything = [f for files in splits.values() for f in files]
        assert len(everything) == len(set(everything)) == 3 * 6
    speakers = {s: {f.split("/")[1].split("_nohash_")[0] for f in files} for s, files in paper.items()}
    assert not (speakers["train"] & speakers["test"]) and not (speakers["valid"] & speakers["test"])
    labels, shape, info = _labels("speech_commands", root, "test")
    assert shape == (1, 64, 101) and info.channels == 1 and sorted(labels) == [0, 1, 2]  # one clip per word
    assert info.mean[0] != 0 and len(info.std) == 1  # the training split's own statistics


def test_the_twelve_class_task_has_silence_and_unknown(tmp_path):
    root = tmp_path / "speech"
    speech_commands_tree(str(root), words=["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
                                           "marvin"], speakers=3)
    labels, _, info = _labels("speech_commands", root, "train", "data.speech_task=twelve")
    assert info.class_names[-2:] == ["_silence_", "_unknown_"] and info.num_classes == 12
    assert labels.count(11) == 1 and 10 in labels  # marvin's training clip is unknown; noise windows are silence


def test_bad_speech_releases_are_named(tmp_path):
    root = tmp_path / "speech"
    speech_commands_tree(str(root))
    write_wav(str(root / "yes" / "ffff0000_nohash_0.wav"), 440, rate=8000)
    with pytest.raises(DatasetError, match="ffff0000_nohash_0.wav cannot be used: 8000 Hz.*16 kHz 16-bit mono"):
        _labels("speech_commands", root, "train")
    write_wav(str(root / "yes" / "ffff0000_nohash_0.wav"), 440, channels=2)
    with pytest.raises(DatasetError, match="2 channel"):
        _labels("speech_commands", root, "train")
    (root / "yes" / "ffff0000_nohash_0.wav").write_bytes(b"RIFF but no WAV data")
    with pytest.raises(DatasetError, match="ffff0000_nohash_0.wav cannot be read as a WAV file"):
        _labels("speech_commands", root, "train")
    os.remove(root / "yes" / "ffff0000_nohash_0.wav")
    os.remove(root / "testing_list.txt")
    with pytest.raises(DatasetError, match="testing_list.txt' is missing.*speech_split=paper"):
        _labels("speech_commands", root, "train")
    with pytest.raises(DatasetError, match="needs the word folders"):
        _labels("speech_commands", root, "train", "data.speech_task=twelve", "data.speech_split=paper")


def _config(name, *overrides):
    return load_config(os.path.join(REPO, "configs", name), list(overrides))


def test_speech_recipes_train_a_one_channel_teacher_and_distil_from_it(tmp_path):
    from ats_ms.engine.trainer import train, train_group
    root = tmp_path / "speech"
    speech_commands_tree(str(root))
    common = [f"data.root={root}", f"experiment.output_dir={tmp_path / 'runs'}", *SMALL]
    # ResNet-8 in place of the recipes' ResNet-56 / ResNet-20 (the one-channel stem is the same code)
    teacher = train(_config("speech_commands/ats_paper/teacher_resnet56.yaml", "model.arch=resnet8", *common))
    assert teacher["steps"] == 12 // 2  # the paper split: 12 training clips
    ckpt = tmp_path / "runs" / "teacher_resnet56" / "best.ckpt"
    students = [_config(f"speech_commands/ats_paper/resnet56_to_resnet20/{m}.yaml", *common, "model.arch=resnet8",
                        "teacher.arch=resnet8", f"teacher.checkpoint={ckpt}")
                for m in ("ts", "ats")]
    assert all(s["steps"] == 6 for s in train_group(students))


pytest.importorskip("mindcv", reason="the fine-grained recipes' networks come from mindcv (CI installs it)")


def test_fine_grained_recipes_fine_tune_from_imagenet_weights_and_distil(tmp_path):
    """The teacher starts from 1000-class (ImageNet) weights: its classifier is left out and re-initialised, and
    the log says so; a student of the other dataset then distils from it."""
    from ats_ms.engine.checkpoint import save_weights
    from ats_ms.engine.trainer import train, train_group
    from ats_ms.models import create_model
    import mindspore as ms
    # The recipes' teacher is a ResNet-50; a ResNet-18 takes its place here (same code path, a third of the
    # compile time): the point is the recipe's data, fine-tuning and distillation, not the network.
    for arch, name, last_bn in (("mindcv:resnet18", "resnet18", ".bn2.gamma"),):
        net = create_model(arch, 1000)
        for pname, param in net.parameters_and_names():  # "pretrained" stand-in: residual branches start at zero, so
            if pname.startswith("layer") and pname.endswith(last_bn):  # inference-mode activations stay bounded
                param.set_data(ms.Tensor(np.zeros(param.shape, np.float32)))
        save_weights(net, str(tmp_path / f"{name}.ckpt"), {"arch": arch, "num_classes": 1000, "pool_padding": "symmetric"})
    cub_tree(str(tmp_path / "cub"))
    dogs_tree(str(tmp_path / "dogs"))
    common = [f"experiment.output_dir={tmp_path / 'runs'}", "data.image_size=32", *SMALL]
    teacher_cfg = _config("cub200/ats_paper/teacher_resnet50.yaml", f"data.root={tmp_path / 'cub'}",
                          "model.arch=mindcv:resnet18", f"model.checkpoint={tmp_path / 'resnet18.ckpt'}", *common)
    assert train(teacher_cfg)["steps"] == 3
    log = open(tmp_path / "runs" / "teacher_resnet50" / "train.log").read()
    assert "classifier (classifier.weight, classifier.bias; 1000 classes) does not fit this run's 3 classes" in log
    student = _config("stanford_dogs/ats_paper/resnet50_to_resnet18/ats.yaml", f"data.root={tmp_path / 'dogs'}",
                      f"model.checkpoint={tmp_path / 'resnet18.ckpt'}",
                      "teacher.arch=mindcv:resnet18",
                      f"teacher.checkpoint={tmp_path / 'runs' / 'teacher_resnet50' / 'best.ckpt'}", *common)
    (summary,) = train_group([student])
    assert summary["steps"] == 3 and summary["method"] == "ats"
    meta = json.load(open(tmp_path / "runs" / "resnet50_to_resnet18_ats" / "env.json"))
    assert meta["teacher_sha256"]
    assert np.isfinite(summary["best_top1"])


def test_log_mel_features_equal_mindspores_audio_operations():
    """The speech features are computed with numpy's FFT; MindSpore's MelSpectrogram + AmplitudeToDB (the
    reference, with the same settings) give the same decibels, on a tone, noise and a quiet clip."""
    import mindspore.dataset.audio as A
    from ats_ms.data.speech import MEL, log_mel
    reference = [A.MelSpectrogram(**MEL), A.AmplitudeToDB(stype=A.ScaleType.POWER, top_db=80.0)]
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    clips = [0.3 * np.sin(2 * np.pi * 440 * t), 0.1 * rng.standard_normal(16000), 1e-4 * rng.standard_normal(16000)]
    for clip in clips:
        clip = clip.astype(np.float32)
        expected = clip
        for op in reference:
            expected = op(expected)
        got = log_mel(clip)
        assert got.shape == expected.shape == (64, 101)
        assert np.abs(got - expected).max() < 1e-3  # decibels
