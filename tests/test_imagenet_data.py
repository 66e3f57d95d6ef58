"""ImageNet and Tiny-ImageNet read in their official layouts: class order, labels, every validation layout,
the pipelines' shapes, and the errors for broken layouts."""
import os

import numpy as np
import pytest

from ats_ms.config import load_config
from ats_ms.data import create_dataset
from ats_ms.common.errors import DatasetError
from layout_fixtures import WNIDS, imagenet_tree, tiny_imagenet_tree, write_jpeg


def _labels(cfg, split):
    data, info = create_dataset(cfg.data, split, ordered=True)
    labels, shapes = [], set()
    for images, y in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
        labels += y.tolist()
        shapes.add(images.shape[1:])
    return labels, shapes, info


def _cfg(name, root, *extra):
    return load_config(None, [f"data.name={name}", f"data.root={root}", "data.batch_size=2", "data.eval_batch_size=4",
                              *extra])


@pytest.mark.parametrize("val_layout", ["sorted", "devkit", "kaggle"])
def test_imagenet_in_each_validation_layout(tmp_path, val_layout):
    root = tmp_path / "imagenet"
    expected = imagenet_tree(str(root), val_layout=val_layout)
    cfg = _cfg("imagenet", root, "data.image_size=32")
    labels, shapes, info = _labels(cfg, "test")
    if val_layout == "sorted":  # files come class folder by class folder
        expected = sorted(expected)
    assert labels == expected and shapes == {(3, 32, 32)}  # Resize(37) + CenterCrop(32)
    assert info.class_names == WNIDS and info.num_classes == 3 and info.mean == (0.485, 0.456, 0.406)
    train_labels, train_shapes, train_info = _labels(cfg, "train")
    assert sorted(train_labels) == [0] * 4 + [1] * 4 + [2] * 4 and train_shapes == {(3, 32, 32)}
    augmented, _ = create_dataset(cfg.data, "train", seed=0)  # RandomResizedCrop + flip
    (batch, _), *_ = list(augmented.create_tuple_iterator(num_epochs=1, output_numpy=True))
    assert batch.shape == (2, 3, 32, 32) and train_info.num_samples == 12


def test_tiny_imagenet_layout(tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    expected = tiny_imagenet_tree(str(root))
    cfg = _cfg("tiny_imagenet", root)
    labels, shapes, info = _labels(cfg, "test")
    assert labels == expected and shapes == {(3, 64, 64)} and info.class_names == WNIDS  # sorted wnids, 64x64
    cfg = _cfg("tiny_imagenet", root, "data.image_size=24")
    train_labels, _, _ = _labels(cfg, "train")
    assert sorted(train_labels) == [0] * 4 + [1] * 4 + [2] * 4


def test_broken_layouts_are_named(tmp_path):
    root = tmp_path / "imagenet"
    imagenet_tree(str(root))
    os.makedirs(root / "train" / "n09999999")  # a class folder without images
    with pytest.raises(DatasetError, match="n09999999' holds no images"):
        create_dataset(_cfg("imagenet", root).data, "train")
    raw = tmp_path / "raw"
    imagenet_tree(str(raw), val_layout="kaggle")
    os.remove(raw / "LOC_val_solution.csv")
    with pytest.raises(DatasetError, match="raw validation folder .* no labels were found.*sort val/"):
        create_dataset(_cfg("imagenet", raw).data, "test")
    with pytest.raises(DatasetError, match="Training folder .* does not exist"):
        create_dataset(_cfg("imagenet", tmp_path / "raw" / "val").data, "train")
    tiny = tmp_path / "tiny"
    tiny_imagenet_tree(str(tiny))
    with open(tiny / "val" / "val_annotations.txt", "a") as f:
        f.write("val_0.JPEG\tn00000001\t0\t0\t1\t1\n")
    with pytest.raises(DatasetError, match="wnid 'n00000001'.*not a training class"):
        create_dataset(_cfg("tiny_imagenet", tiny).data, "test")
    os.remove(tiny / "wnids.txt")
    with pytest.raises(DatasetError, match="wnids.txt' is missing"):
        create_dataset(_cfg("tiny_imagenet", tiny).data, "train")


def test_an_unreadable_file_is_named_before_training(tmp_path):
    root = tmp_path / "imagenet"
    imagenet_tree(str(root))
    bad = root / "train" / WNIDS[1] / "broken.JPEG"
    bad.write_bytes(b"\xff\xd8 not a JPEG")
    with pytest.raises(DatasetError, match=f"'{bad}' cannot be decoded"):
        create_dataset(_cfg("imagenet", root).data, "train")
    # verification off (the default above 100,000 files): the pipeline names it when it is reached
    create_dataset(_cfg("imagenet", root, "data.verify_images=false").data, "train")


def test_jpeg_pixels_survive_the_pipeline(tmp_path):
    """A flat-colour JPEG of one class, through decode and normalisation only (no augmentation)."""
    root = tmp_path / "imagenet"
    imagenet_tree(str(root), train=1, val=1)
    write_jpeg(str(root / "train" / WNIDS[0] / "flat.JPEG"), 0, 0, size=32)
    cfg = _cfg("imagenet", root, "data.image_size=32", "data.augment=false", "data.mean=[0,0,0]",
               "data.std=[0.00392156862745098,0.00392156862745098,0.00392156862745098]")
    data, _ = create_dataset(cfg.data, "test", ordered=True)
    for images, _ in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
        assert 0 <= images.min() and images.max() <= 255 and np.isfinite(images).all()


def test_the_throughput_command_times_each_worker_count(tmp_path, capsys):
    import json
    from ats_ms.data.__main__ import main as data_main
    root = tmp_path / "imagenet"
    imagenet_tree(str(root), train=8, val=1)
    assert data_main(["--name", "imagenet", "--root", str(root), "--throughput", "--workers", "1,2", "--batches", "2",
                      "data.batch_size=2", "data.image_size=32"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["train"]["images"] == 24 and report["test"]["images"] == 3
    # every class counted with the timing too (3 classes of 8 training images, 1 test image each)
    assert (report["train"]["per_class_min"], report["train"]["per_class_max"]) == (8, 8)
    assert (report["test"]["per_class_min"], report["test"]["per_class_max"]) == (1, 1)
    rows = report["train"]["throughput"]
    assert [r["workers"] for r in rows] == [1, 2] and all(r["images_per_s"] > 0 and r["peak_rss_mb"] > 0 for r in rows)
