"""The shipped ImageNet and Tiny-ImageNet recipes train end to end on tiny datasets in the official layouts
(one epoch, a few images, small image sizes: the only changes)."""
import json
import os

import pytest

from ats_ms.config import load_config
from ats_ms.engine.trainer import train, train_group
from conftest import REPO
from layout_fixtures import imagenet_tree, tiny_imagenet_tree

SMALL = ["schedule.epochs=1", "data.batch_size=4", "data.eval_batch_size=6", "data.num_parallel_workers=2",
         "logging.log_interval=1"]


def _config(name, *overrides):
    return load_config(os.path.join(REPO, "configs", name), list(overrides))


def _summary(cfg):
    return json.load(open(os.path.join(cfg.experiment.output_dir, cfg.experiment.name, "summary.json")))


def test_tiny_imagenet_recipes_train_a_teacher_and_distil_from_it(tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    tiny_imagenet_tree(str(root), size=64)
    common = [f"data.root={root}", f"experiment.output_dir={tmp_path / 'runs'}", "data.image_size=16", *SMALL]
    # ResNet-8 in place of the recipe's ResNet-56 / ResNet-20: the recipe's data path is the point
    teacher = train(_config("tiny_imagenet/ats_paper/teachers/resnet56.yaml", "model.arch=resnet8", *common))
    assert teacher["steps"] == 12 // 4 and teacher["test_images"] == 6
    ckpt = tmp_path / "runs" / "teacher_resnet56" / "best.ckpt"
    students = [_config(f"tiny_imagenet/ats_paper/resnet56_to_resnet20/{m}.yaml", *common, "model.arch=resnet8",
                        "teacher.arch=resnet8", f"teacher.checkpoint={ckpt}")
                for m in ("ts", "ats")]
    summaries = train_group(students)  # TS and ATS as one shared-teacher group
    assert [s["method"] for s in summaries] == ["ts", "ats"] and all(s["steps"] == 3 for s in summaries)


pytest.importorskip("mindcv", reason="the ImageNet recipes' networks come from mindcv (CI installs it)")


def _random_teacher(arch, path, classes=3):
    from ats_ms.engine.checkpoint import save_weights
    from ats_ms.models import create_model
    save_weights(create_model(arch, classes), str(path), {"arch": arch, "num_classes": classes})


def test_imagenet_recipes_distil_on_the_official_layout(tmp_path, pair="resnet34_to_resnet18", methods=("kd", "ats")):
    """KD and ATS from the converted-teacher configs as one group (the raw validation layout with the devkit);
    the other pairs' networks are checked in test_imagenet_networks.py and their configs in
    test_shipped_configs.py."""
    root = tmp_path / "imagenet"
    imagenet_tree(str(root), val_layout="devkit")
    cfgs = [_config(f"imagenet/kd_benchmark/{pair}/{m}.yaml", f"data.root={root}", "data.image_size=32",
                    f"experiment.output_dir={tmp_path / 'runs'}", f"teacher.checkpoint={tmp_path / 'teacher.ckpt'}", *SMALL)
            for m in methods]
    _random_teacher(cfgs[0].teacher.arch, tmp_path / "teacher.ckpt")
    summaries = train_group(cfgs)
    for cfg, summary in zip(cfgs, summaries):
        assert summary["steps"] == 12 // 4 and summary["test_images"] == 6 and summary["arch"] == cfg.model.arch
        log = open(os.path.join(cfg.experiment.output_dir, cfg.experiment.name, "train.log")).read()
        assert "lr 0.0015625 (global batch 4)" in log  # 0.2 x 4 / 512: linear scaling with the global batch
        assert f"teacher   {cfg.teacher.arch} (" in log
