"""``create_dataset``: one call from a ``data`` config section to a batched MindSpore pipeline.

Sampling rules.  Training shuffles every epoch (seeded) and drops the last partial batch so every
step has the same static shape; evaluation keeps order and keeps the remainder so each test image is
counted exactly once.  With ``num_shards`` > 1 the training split is divided across ranks by
``DistributedSampler`` (equal shard sizes, reshuffled each epoch).
"""
import os
from dataclasses import dataclass
from typing import List

import mindspore.dataset as ds

from ats_ms.data.cifar import cifar_source
from ats_ms.data.digits import digits_source
from ats_ms.data.download import ensure_release
from ats_ms.data.image_folder import image_folder_source
from ats_ms.data.imagenet import imagenet_source, tiny_imagenet_source
from ats_ms.data.fine_grained import cub200_source, stanford_dogs_source
from ats_ms.data.speech import speech_commands_source
from ats_ms.data.subset import subset_indices, uses_subset
from ats_ms.data.transforms import image_ops, imagenet_ops, speech_ops
from ats_ms.common.errors import DatasetError

SOURCES = {"cifar10": cifar_source, "cifar100": cifar_source, "image_folder": image_folder_source,
           "digits": digits_source, "imagenet": imagenet_source, "tiny_imagenet": tiny_imagenet_source,
           "speech_commands": speech_commands_source, "cub200": cub200_source, "stanford_dogs": stanford_dogs_source}


@dataclass
class DatasetInfo:
    name: str
    split: str
    num_samples: int      # images this rank iterates per epoch (before dropping a partial batch)
    num_classes: int
    class_names: List[str]
    image_size: int
    batches_per_epoch: int
    location: str
    mean: tuple
    std: tuple
    workers: int = 1      # parallel workers the pipeline uses (data.num_parallel_workers, at most the CPUs)
    channels: int = 3     # input channels (1 for spectrograms)
    flips: bool = False   # the training pipeline flips images horizontally at random


NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "digits": 8}
DEFAULT_SIZE = {"imagenet": 224, "tiny_imagenet": 64, "cub200": 224, "stanford_dogs": 224}


def input_size(cfg):
    """Side length of the images the network sees, known without opening the data."""
    return NATIVE_SIZE.get(cfg.name) or cfg.image_size or DEFAULT_SIZE.get(cfg.name, 32)


def input_shape(cfg):
    """(channels, height, width) of one input, known without opening the data (the example input of export)."""
    if cfg.name == "speech_commands":
        from ats_ms.data.speech import SPECTROGRAM_SHAPE  # pylint: disable=import-outside-toplevel
        return SPECTROGRAM_SHAPE
    size = input_size(cfg)
    return 3, size, size


def get_source(cfg, split):
    """The unbatched source for a split, downloading a CIFAR release first if configured.  The validation
    split ("val") is read from the training release."""
    if cfg.name not in SOURCES:
        raise DatasetError(f"Unknown dataset '{cfg.name}'; choose one of {', '.join(SOURCES)}.")
    if cfg.download and cfg.name.startswith("cifar"):
        ensure_release(cfg.root, cfg.name, cfg.format, cfg.url, cfg.md5)
    if split == "val":
        return SOURCES[cfg.name](cfg, "train", None)
    limit = cfg.train_samples if split == "train" else cfg.test_samples
    return SOURCES[cfg.name](cfg, split, limit)


def split_indices(cfg, source, split):
    """The source indices a split reads, in file order: a class-balanced subset or its validation part
    (``ats_ms.data.subset``), the first ``train_samples`` / ``test_samples``, or None for all of them."""
    if split in ("train", "val") and uses_subset(cfg):
        return subset_indices(cfg, source, split)
    limit = cfg.train_samples if split == "train" else cfg.test_samples
    return list(range(limit)) if limit and limit < source.num_samples else None


def _sampler(n, indices, train, num_shards, shard_id):
    used = n if indices is None else len(indices)
    if train and num_shards > 1:
        per_shard = -(-used // num_shards)
        if indices is None:
            return ds.DistributedSampler(num_shards, shard_id, shuffle=True), per_shard
        mine = indices[shard_id::num_shards]
        mine += indices[: per_shard - len(mine)]  # wrap so every rank runs the same number of steps
        return ds.SubsetRandomSampler(mine), per_shard
    if train:
        return (ds.RandomSampler() if indices is None else ds.SubsetRandomSampler(indices)), used
    if indices is None:
        return ds.SequentialSampler(), used
    if indices == list(range(used)):
        return ds.SequentialSampler(num_samples=used), used
    return ds.SubsetSampler(indices), used


def create_dataset(cfg, split, batch_size=None, num_shards=1, shard_id=0, seed=None, ordered=False):
    """Return ``(dataset, DatasetInfo)`` for ``split`` in {"train", "val", "test"} ("val": the validation images
    held out of the training release by ``data.val_per_class``, read like the test split).

    The dataset yields ``image`` float32 NCHW and ``label`` int32 batches.  ``seed`` sets MindSpore's
    dataset seed so shuffling and augmentation repeat exactly.  ``ordered=True`` reads any split the way
    the test split is read (file order, no augmentation, remainder kept), so that several networks
    see the same images in the same order (analysis, cached teacher logits).
    """
    if split not in ("train", "val", "test"):
        raise DatasetError(f"split must be 'train', 'val' or 'test', got '{split}'.")
    if split == "val" and not cfg.val_per_class:
        raise DatasetError("There is no validation split: set data.val_per_class to hold that many training images "
                           "of each class out as one.")
    if seed is not None:
        ds.config.set_seed(seed)
    train = split == "train" and not ordered
    source = get_source(cfg, split)
    sampler, used = _sampler(source.num_samples, split_indices(cfg, source, split), train, num_shards, shard_id)
    mean, std = source.mean_std
    mean, std = tuple(cfg.mean or mean), tuple(cfg.std or std)
    hflip = source.hflip if cfg.hflip is None else cfg.hflip
    if source.pipeline == "speech":
        ops = speech_ops(mean, std)
    elif source.pipeline == "imagenet":
        ops = imagenet_ops(source.image_size, mean, std, train, augment=cfg.augment, hflip=hflip, decode=source.encoded)
    else:
        ops = image_ops(source.image_size, mean, std, train, augment=cfg.augment, hflip=hflip,
                        crop_padding=cfg.crop_padding, resize=source.needs_resize, decode=source.encoded)
    # MindSpore refuses more workers than the machine has CPUs; a recipe written for a cluster node (8 workers)
    # then runs on a smaller machine with as many as it has.
    workers = max(1, min(cfg.num_parallel_workers, os.cpu_count() or 1))
    data = source.build(sampler, workers)
    data = data.map(ops, input_columns="image", num_parallel_workers=workers)
    batch_size = batch_size or (cfg.batch_size if train else cfg.eval_batch_size)
    if used == 0:
        raise DatasetError(f"The {split} split of {source.name} at {source.location} holds no samples"
                           + (" (data.speech_split=official takes it from the release's lists: validation_list.txt / "
                              "testing_list.txt)" if source.name == "speech_commands" else "")
                           + ". Restore the split's files or lists; nothing was trained.")
    if train and used < batch_size:
        raise DatasetError(f"The training split has {used} images on this rank, fewer than one batch of "
                           f"{batch_size}: lower data.batch_size or use more data.")
    data = data.batch(batch_size, drop_remainder=train, num_parallel_workers=workers)
    steps = used // batch_size if train else -(-used // batch_size)
    info = DatasetInfo(name=source.name, split=split, num_samples=used, num_classes=source.num_classes,
                       class_names=source.class_names, image_size=source.image_size, batches_per_epoch=steps,
                       location=source.location, mean=mean, std=std, workers=workers, channels=source.channels,
                       flips=bool(cfg.augment and hflip and source.pipeline != "speech"))
    return data, info
