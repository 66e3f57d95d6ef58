"""The built-in dataset: scikit-learn's real handwritten digits (1,797 8x8 images, 10 classes).

It ships inside scikit-learn, so the quick start runs on a fresh machine with no download.  The split
is deterministic and stratified (20% of each class to test).  Grey levels 0..16 are mapped to
uint8 and repeated to 3 channels so every CIFAR network runs unchanged.  Normalisation uses the
training split's own mean and standard deviation.  Horizontal flips are off (digits are not
mirror-symmetric).
"""
import numpy as np

from ats_ms.data.cifar import array_dataset
from ats_ms.data.source import Source
from ats_ms.common.optional import require

TEST_FRACTION = 0.2


def load_digits_split(split):
    load_digits = require("sklearn.datasets", "The built-in 'digits' dataset (it ships inside scikit-learn)").load_digits
    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.int32)
    rng = np.random.RandomState(0)
    test_idx = []
    for c in range(10):
        idx = np.nonzero(labels == c)[0]
        rng.shuffle(idx)
        test_idx.extend(idx[: int(round(len(idx) * TEST_FRACTION))])
    is_test = np.zeros(len(labels), bool)
    is_test[test_idx] = True
    keep = is_test if split != "train" else ~is_test
    rgb = np.repeat(images[keep][..., None], 3, axis=-1)
    return np.ascontiguousarray(rgb), labels[keep]


def digits_mean_std():
    train, _ = load_digits_split("train")
    pixels = train[..., 0].astype(np.float64) / 255.0
    return (float(pixels.mean()),) * 3, (float(pixels.std()),) * 3


def digits_source(cfg, split, limit=None):
    del cfg, limit
    images, labels = load_digits_split(split)

    def build(sampler, num_parallel_workers):
        return array_dataset(images, labels, sampler, num_parallel_workers)

    return Source(name="digits", split=split, num_samples=len(labels), num_classes=10,
                  class_names=[str(i) for i in range(10)], image_size=8, build=build,
                  mean_std=digits_mean_std(), hflip=False, location="sklearn.datasets.load_digits",
                  labels=lambda: labels)
