"""Image-folder datasets: ``root/train/<class>/*`` and ``root/val/<class>/*`` (or ``test/``): any dataset
sorted into one folder per class.  (ImageNet, Tiny-ImageNet, CUB-200-2011 and Stanford Dogs are read in their
own release layouts by their own sources.)

Class indices come from the sorted training folder names and are saved with the run.  Images are
decoded by MindSpore, converted to RGB and resized to ``data.image_size`` (default 32) so batches
have static shapes in graph mode.  Every file is opened once with pillow first (``data.verify_images``; by
default for up to 100,000 files), so an unreadable file is reported by path instead of failing mid-epoch.
"""
import os

import mindspore as ms
import mindspore.dataset as ds
import mindspore.dataset.transforms as T

from ats_ms.data import constants as C
from ats_ms.data.file_list import class_folders, verify_as_configured
from ats_ms.data.source import Source, require_folder
from ats_ms.common.errors import DatasetError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
EVAL_DIRS = ("val", "test")


def _split_dir(root, split):
    require_folder(root, "Image-folder root", f"{root}/train/<class>/*.jpg and {root}/val/<class>/*.jpg (or test/).")
    candidates = ("train",) if split == "train" else EVAL_DIRS
    for name in candidates:
        path = os.path.join(root, name)
        if os.path.isdir(path):
            return path
    raise DatasetError(f"Image-folder root '{root}' has no {' or '.join(c + '/' for c in candidates)} folder. "
                       f"Expected {root}/train/<class>/... and {root}/val/<class>/... (or test/).")


def _list_images(path):
    classes = class_folders(path)
    files = {}
    for c in classes:
        found = []
        for dirpath, _, names in os.walk(os.path.join(path, c)):
            found += [os.path.join(dirpath, n) for n in names if n.lower().endswith(EXTENSIONS)]
        files[c] = sorted(found)
    return classes, files


def image_folder_source(cfg, split, limit=None):
    del limit
    train_dir = _split_dir(cfg.root, "train")
    class_names, _ = _list_images(train_dir)
    path = train_dir if split == "train" else _split_dir(cfg.root, split)
    classes, files = _list_images(path)
    if not classes:
        raise DatasetError(f"'{path}' has no class sub-folders: expected {path}/<class>/<image>.")
    unknown = sorted(set(classes) - set(class_names))
    if unknown:
        raise DatasetError(f"'{path}' has class folders {unknown[:5]} that are not in '{train_dir}'; evaluation "
                           f"labels would fall outside the {len(class_names)} training classes.")
    empty = [c for c in classes if not files[c]]
    if empty:
        raise DatasetError(f"Class folders {[os.path.join(path, c) for c in empty[:3]]} hold no images with "
                           f"extensions {', '.join(EXTENSIONS)}.")
    verify_as_configured(cfg, [p for paths in files.values() for p in paths])
    class_indexing = {c: i for i, c in enumerate(class_names) if c in classes}
    num = sum(len(v) for v in files.values())

    def build(sampler, num_parallel_workers):
        data = ds.ImageFolderDataset(path, sampler=sampler, num_parallel_workers=num_parallel_workers,
                                     extensions=list(EXTENSIONS) + [e.upper() for e in EXTENSIONS],
                                     class_indexing=class_indexing, decode=True)
        return data.map(T.TypeCast(ms.int32), input_columns="label")

    return Source(name="image_folder", split=split, num_samples=num, num_classes=len(class_names),
                  class_names=class_names, image_size=cfg.image_size or 32, build=build,
                  mean_std=C.MEAN_STD["image_folder"], needs_resize=True, location=path)
