"""The real CIFAR-10 from ../shared (when present): every format ats_ms reads agrees on it."""
import os
import subprocess
import sys

import numpy as np
import pytest

from ats_ms.config.schema import DataConfig
from ats_ms.data import create_dataset
from conftest import SHARED

TOOL = os.path.join(SHARED, "tools", "cifar10_jpg_to_bin.py")
TAR = os.path.join(SHARED, "data", "cifar10-jpg.tar.gz")
pytestmark = pytest.mark.skipif(not (os.path.isfile(TOOL) and os.path.isfile(TAR)),
                                reason="../shared/data/cifar10-jpg.tar.gz is not available (fresh clone)")
RAW = dict(mean=[0.0, 0.0, 0.0], std=[1 / 255.0] * 3, augment=False, verify_images=False)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("real_cifar10"))
    subprocess.run([sys.executable, TOOL, out, "--folder"], check=True, capture_output=True)
    return out


def _load(cfg, split):
    data, info = create_dataset(cfg, split, batch_size=1000)
    images, labels = [], []
    for img, lab in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
        images.append(img.astype(np.uint8))
        labels.append(lab)
    return np.concatenate(images), np.concatenate(labels), info


def test_all_formats_agree_on_real_cifar10(converted):
    configs = {
        "binary": DataConfig(name="cifar10", root=converted, format="binary", **RAW),
        "python": DataConfig(name="cifar10", root=converted, format="python", **RAW),
        "folder": DataConfig(name="image_folder", root=os.path.join(converted, "image_folder"), **RAW),
    }
    for split, n, per_class in (("test", 10000, 1000), ("train", 50000, 5000)):
        loaded = {}
        for fmt, cfg in configs.items():
            images, labels, info = _load(cfg, split)
            assert info.num_samples == n and len(labels) == n, (fmt, split)
            assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10, (fmt, split)
            loaded[fmt] = (images, labels)
        if split == "train":  # training order is shuffled: compare as sorted multisets of images
            keys = {f: sorted(zip((x.tobytes() for x in imgs), labs)) for f, (imgs, labs) in loaded.items()}
            assert keys["binary"] == keys["python"] == keys["folder"]
        else:
            np.testing.assert_array_equal(loaded["binary"][0], loaded["python"][0])
            np.testing.assert_array_equal(loaded["binary"][1], loaded["python"][1])
            # the folder is read in sorted path order; the converter stored a seeded permutation of it
            rng = np.random.RandomState(0)
            rng.permutation(50000)
            perm = rng.permutation(10000)
            np.testing.assert_array_equal(loaded["folder"][0][perm], loaded["binary"][0])
            np.testing.assert_array_equal(loaded["folder"][1][perm], loaded["binary"][1])
