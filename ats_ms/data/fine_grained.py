"""The ATS paper's fine-grained datasets in their official release layouts, read with the ImageNet pipeline
(RandomResizedCrop 224 + flip for training, Resize 256 + CenterCrop 224 for testing, ImageNet's mean/std).

CUB-200-2011, ``data.name: cub200`` (200 classes, 5,994 training / 5,794 test images)::

    ROOT/images/<class id>.<name>/*.jpg, ROOT/images.txt (image id, path under images/),
    ROOT/image_class_labels.txt (image id, class id from 1), ROOT/train_test_split.txt (image id, 1 = train),
    ROOT/classes.txt (class id, name)

Stanford Dogs, ``data.name: stanford_dogs`` (120 classes, 12,000 training / 8,580 test images)::

    ROOT/Images/<wnid>-<breed>/*.jpg, ROOT/train_list.mat and ROOT/test_list.mat (MATLAB files with
    ``file_list`` under Images/ and ``labels`` from 1; read with SciPy's ``loadmat``: pip install scipy)

Class indices follow the releases' own class ids (CUB's classes.txt, the Dogs lists' labels), minus one.
"""
import os

from scipy.io import loadmat  # SciPy comes with MindSpore (one of its requirements)

from ats_ms.data import constants as C
from ats_ms.data.file_list import file_list_dataset, verify_as_configured
from ats_ms.data.source import Source, require_folder
from ats_ms.errors import DatasetError

CUB_FILES = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt")


def _pairs(path, what):
    """Lines of 'id value' as {int id: value}; a malformed line is named."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or not parts[0].isdigit():
                raise DatasetError(f"'{path}' line {number} is not '<id> <{what}>': {line.strip()[:80]!r}.")
            table[int(parts[0])] = parts[1].strip()
    return table


def cub200_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "CUB-200-2011 root", "images/, images.txt, image_class_labels.txt, train_test_split.txt and "
                                              "classes.txt (the CUB_200_2011/ folder of the release).")
    for name in CUB_FILES:
        if not os.path.isfile(os.path.join(root, name)):
            raise DatasetError(f"'{os.path.join(root, name)}' is missing: CUB-200-2011 lists its images, labels, split "
                               "and classes in images.txt, image_class_labels.txt, train_test_split.txt and classes.txt.")
    images = _pairs(os.path.join(root, "images.txt"), "path")
    labels = _pairs(os.path.join(root, "image_class_labels.txt"), "class id")
    is_train = _pairs(os.path.join(root, "train_test_split.txt"), "1 or 0")
    classes = _pairs(os.path.join(root, "classes.txt"), "name")
    class_ids = sorted(classes)
    if class_ids != list(range(1, len(class_ids) + 1)):
        raise DatasetError(f"'{os.path.join(root, 'classes.txt')}' numbers its classes {class_ids[:3]}...: expected "
                           "1, 2, 3, ... as in the release.")
    paths, targets, seen = [], [], set()
    wanted = "1" if split == "train" else "0"
    for image_id, rel in sorted(images.items()):
        if image_id not in labels or image_id not in is_train:
            raise DatasetError(f"Image {image_id} ('{rel}') of images.txt has no label or no split entry.")
        class_id = int(labels[image_id])
        if class_id not in classes:
            raise DatasetError(f"Image {image_id} ('{rel}') is labelled class {class_id}, which classes.txt does not "
                               "list.")
        seen.add(class_id)
        if is_train[image_id] != wanted:
            continue
        path = os.path.join(root, "images", rel)
        if not os.path.isfile(path):
            raise DatasetError(f"'{path}' (image {image_id} of images.txt) does not exist.")
        paths.append(path)
        targets.append(class_id - 1)
    absent = [classes[c] for c in class_ids if c not in seen]
    if absent:
        raise DatasetError(f"classes.txt lists {len(absent)} classes with no image in images.txt (e.g. '{absent[0]}'): "
                           "the lists belong to another release or were cut.")
    verify_as_configured(cfg, paths)
    return _source("cub200", split, paths, targets, [classes[c] for c in class_ids], cfg, root)


def stanford_dogs_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "Stanford Dogs root", "Images/<wnid>-<breed>/*.jpg with train_list.mat and test_list.mat.")
    listed = os.path.join(root, "train_list.mat" if split == "train" else "test_list.mat")
    if not os.path.isfile(listed):
        raise DatasetError(f"'{listed}' is missing: Stanford Dogs' split comes from train_list.mat and test_list.mat "
                           "(the release's lists.tar). Unpack them into the root.")
    try:
        content = loadmat(listed, squeeze_me=True)
        files = [str(f) for f in content["file_list"]]
        labels = [int(v) for v in content["labels"]]
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise DatasetError(f"'{listed}' cannot be read as the release's list ({type(exc).__name__}: {exc}); it needs "
                           "'file_list' and 'labels'.") from None
    folders = sorted(d for d in os.listdir(os.path.join(root, "Images"))) if os.path.isdir(
        os.path.join(root, "Images")) else []
    if not folders:
        raise DatasetError(f"'{os.path.join(root, 'Images')}' holds no breed folders. Expected Images/<wnid>-<breed>/.")
    names = {}
    paths = []
    for rel, label in zip(files, labels):
        path = os.path.join(root, "Images", rel)
        if not os.path.isfile(path):
            raise DatasetError(f"'{listed}' names '{rel}', which is not under '{os.path.join(root, 'Images')}'.")
        names.setdefault(label, rel.split("/")[0])
        paths.append(path)
    if min(labels) < 1 or max(labels) > len(folders):
        raise DatasetError(f"'{listed}' has labels from {min(labels)} to {max(labels)} but there are {len(folders)} "
                           "breed folders.")
    verify_as_configured(cfg, paths)
    return _source("stanford_dogs", split, paths, [v - 1 for v in labels], folders, cfg, root)


def _source(name, split, paths, labels, class_names, cfg, root):
    def build(sampler, num_parallel_workers):
        return file_list_dataset(paths, labels, sampler, num_parallel_workers)

    return Source(name=name, split=split, num_samples=len(paths), num_classes=len(class_names),
                  class_names=list(class_names), image_size=cfg.image_size or 224, build=build,
                  mean_std=C.MEAN_STD["image_folder"], location=root, encoded=True, pipeline="imagenet")
