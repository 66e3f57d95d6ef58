"""ats_ms.data.subset and the splits it gives create_dataset: a class-balanced training subset in file order,
its validation part, and the refusals."""
import numpy as np
import pytest

from ats_ms.config.schema import DataConfig
from ats_ms.data import create_dataset
from ats_ms.data.subset import split_indices
from ats_ms.common.errors import DatasetError
from cifar_fixtures import write_binary, write_python

RAW = dict(mean=[0.0, 0.0, 0.0], std=[1 / 255.0] * 3)  # normalisation that returns raw pixel values


def test_split_takes_the_first_images_of_each_class_and_holds_out_their_last():
    labels = np.array([2, 0, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2])
    train, val = split_indices(labels, 3, per_class=3, val_per_class=1)
    # class 0 at 1, 3, 6, 9; class 1 at 2, 5, 8, 10; class 2 at 0, 4, 7, 11: the first three of each
    assert val == [6, 7, 8]
    assert train == [0, 1, 2, 3, 4, 5]
    all_train, all_val = split_indices(labels, 3, per_class=None, val_per_class=2)
    assert all_val == [6, 7, 8, 9, 10, 11] and all_train == [0, 1, 2, 3, 4, 5]


def test_a_class_with_too_few_images_is_named():
    with pytest.raises(DatasetError, match="Class 1 has 1 training images"):
        split_indices(np.array([0, 0, 1, 0]), 2, per_class=2, val_per_class=0)
    with pytest.raises(DatasetError, match="data.val_per_class must be below data.subset_per_class"):
        split_indices(np.array([0, 1, 0, 1]), 2, per_class=2, val_per_class=2)


def test_a_validation_split_as_large_as_the_subset_is_refused_when_the_config_is_read():
    from ats_ms.common.errors import ConfigError
    from ats_ms.config import load_config
    with pytest.raises(ConfigError, match="data.val_per_class=10 must be below data.subset_per_class=10"):
        load_config(None, ["data.subset_per_class=10", "data.val_per_class=10"])


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    """Sixty images, six per class in a shuffled order; each image's first pixel holds its index."""
    root = str(tmp_path_factory.mktemp("cifar_subset"))
    rng = np.random.RandomState(5)
    labels = rng.permutation(np.repeat(np.arange(10), 6)).astype(np.int32)
    images = rng.randint(0, 256, size=(60, 32, 32, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(60)
    test = (images[:20], labels[:20])
    write_binary(root, "cifar10", (images, labels), test)
    write_python(root, "cifar10", (images, labels), test)
    return root, labels


def _indices_read(cfg, split, **kw):
    data, info = create_dataset(cfg, split, **kw)
    seen = []
    for img, _ in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
        seen += [int(v) for v in np.rint(img[:, 0, 0, 0])]
    return seen, info


@pytest.mark.parametrize("fmt", ["binary", "python"])
def test_train_and_val_splits_read_the_chosen_images(cifar_root, fmt):
    root, labels = cifar_root
    cfg = DataConfig(name="cifar10", root=root, format=fmt, subset_per_class=4, val_per_class=1, batch_size=5,
                     eval_batch_size=7, augment=False, **RAW)
    first4 = [np.nonzero(labels == c)[0][:4] for c in range(10)]
    val, info = _indices_read(cfg, "val")
    assert val == sorted(int(f[3]) for f in first4) and info.num_samples == 10 and info.batches_per_epoch == 2
    train, info = _indices_read(cfg, "train", seed=1)
    assert sorted(train) == sorted(int(i) for f in first4 for i in f[:3]) and train != sorted(train)  # shuffled
    assert info.num_samples == 30 and info.batches_per_epoch == 6
    assert np.bincount(labels[train], minlength=10).tolist() == [3] * 10
    ordered, _ = _indices_read(cfg, "train", ordered=True)
    assert ordered == sorted(train)  # analysis and cached teacher logits read the subset in file order


def test_no_validation_split_without_val_per_class(cifar_root):
    cfg = DataConfig(name="cifar10", root=cifar_root[0], subset_per_class=4)
    with pytest.raises(DatasetError, match="There is no validation split"):
        create_dataset(cfg, "val")


def test_the_subset_is_refused_where_labels_need_every_file(tmp_path):
    from PIL import Image
    for split in ("train", "val"):
        for c in ("a", "b"):
            (tmp_path / split / c).mkdir(parents=True)
            Image.new("RGB", (8, 8)).save(tmp_path / split / c / "x.png")
    cfg = DataConfig(name="image_folder", root=str(tmp_path), subset_per_class=1, batch_size=1)
    with pytest.raises(DatasetError, match="not for 'image_folder'"):
        create_dataset(cfg, "train")
