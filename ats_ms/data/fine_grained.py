"""The ATS paper's fine-grained datasets in their official release layouts, read with the ImageNet pipeline
(RandomResizedCrop 224 + flip for training, Resize 256 + CenterCrop 224 for testing, ImageNet's mean/std).

CUB-200-2011, ``data.name: cub200`` (200 classes, 5,994 training / 5,794 test images)::

    ROOT/images/<class id>.<name>/*.jpg, ROOT/images.txt (image id, path under images/),
    ROOT/image_class_labels.txt (image id, class id from 1), ROOT/train_test_split.txt (image id, 1 = train),
    ROOT/classes.txt (class id, name)

Stanford Dogs, ``data.name: stanford_dogs`` (120 classes, 12,000 training / 8,580 test images)::

    ROOT/Images/<wnid>-<breed>/*.jpg, ROOT/train_list.mat and ROOT/test_list.mat (MATLAB files with
    ``file_list`` under Images/ and ``labels`` from 1; read with SciPy's ``loadmat``)

Class indices follow the releases' own class ids (CUB's classes.txt, the Dogs lists' labels), minus one, and so
do the class names (the Dogs breed of label k is the folder its listed files are in): what else lies in the
folders (a stray file, ``.DS_Store``, an extra folder) cannot shift a label.
"""
import os

from scipy.io import loadmat  # SciPy comes with MindSpore (one of its requirements)

from ats_ms.data import constants as C
from ats_ms.data.file_list import class_folders, file_list_dataset, images_in, read_text_lines, verify_as_configured
from ats_ms.data.source import Source, require_folder
from ats_ms.common.errors import DatasetError

CUB_FILES = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt")


def _pairs(path, what):
    """Lines of 'id value' as {int id: value}; a malformed line is named."""
    table = {}
    for number, line in enumerate(read_text_lines(path, "Re-extract it from the CUB_200_2011 archive."), start=1):
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


def _dogs_list(path):
    """(files under Images/, labels from 1) of one of the release's MATLAB lists."""
    try:
        content = loadmat(path, squeeze_me=True)
        files = [str(f) for f in content["file_list"]]
        labels = [int(v) for v in content["labels"]]
    except (KeyError, ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise DatasetError(f"'{path}' cannot be read as the release's list ({type(exc).__name__}: {exc}); it needs "
                           "'file_list' and 'labels' (the MATLAB files of the release's lists.tar).") from None
    if len(files) != len(labels) or not files:
        raise DatasetError(f"'{path}' lists {len(files)} files and {len(labels)} labels; the list is cut or corrupt.")
    return files, labels


def _dogs_classes(root, lists):
    """Class names in label order, from the release's lists: label k names the breed folder its files are in.
    Nothing under Images/ but those files counts, so a stray file or folder cannot shift a label."""
    names = {}
    for listed, (files, labels) in lists.items():
        for rel, label in zip(files, labels):
            breed = rel.replace("\\", "/").split("/")[0]
            if names.setdefault(label, breed) != breed:
                raise DatasetError(f"'{listed}' gives label {label} to files of two breed folders ('{names[label]}' and "
                                   f"'{breed}'); the lists are not the release's.")
    labels = sorted(names)
    if labels != list(range(1, len(labels) + 1)):
        missing = sorted(set(range(1, labels[-1] + 1)) - set(labels))
        raise DatasetError(f"The lists of '{root}' use labels up to {labels[-1]} but never {missing[:3]}: the lists are "
                           "cut or not the release's.")
    return [names[k] for k in labels]


def _check_breed_folders(images, class_names):
    """Every breed folder under Images/ holds images (the datasets page promises that an empty one is named);
    files and hidden entries beside the folders are ignored."""
    for folder in class_folders(images):
        if not images_in(os.path.join(images, folder)):
            raise DatasetError(f"Breed folder '{os.path.join(images, folder)}' holds no images. Remove it or restore "
                               f"its files ({len(class_names)} breeds are listed by the release's lists).")


def stanford_dogs_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "Stanford Dogs root", "Images/<wnid>-<breed>/*.jpg with train_list.mat and test_list.mat.")
    images = os.path.join(root, "Images")
    require_folder(images, "Stanford Dogs image folder", "one folder per breed, Images/<wnid>-<breed>/*.jpg.")
    listed = os.path.join(root, "train_list.mat" if split == "train" else "test_list.mat")
    lists = {}
    for name in ("train_list.mat", "test_list.mat"):  # both, when present, name the classes
        path = os.path.join(root, name)
        if os.path.isfile(path):
            lists[path] = _dogs_list(path)
        elif path == listed:
            raise DatasetError(f"'{path}' is missing: Stanford Dogs' split comes from train_list.mat and test_list.mat "
                               "(the release's lists.tar). Unpack them into the root.")
    class_names = _dogs_classes(root, lists)
    _check_breed_folders(images, class_names)
    files, labels = lists[listed]
    paths = []
    for rel in files:
        path = os.path.join(images, rel)
        if not os.path.isfile(path):
            raise DatasetError(f"'{listed}' names '{rel}', which is not under '{images}'.")
        paths.append(path)
    verify_as_configured(cfg, paths)
    return _source("stanford_dogs", split, paths, [v - 1 for v in labels], class_names, cfg, root)


def _source(name, split, paths, labels, class_names, cfg, root):
    def build(sampler, num_parallel_workers):
        return file_list_dataset(paths, labels, sampler, num_parallel_workers)

    return Source(name=name, split=split, num_samples=len(paths), num_classes=len(class_names),
                  class_names=list(class_names), image_size=cfg.image_size or 224, build=build,
                  mean_std=C.MEAN_STD["image_folder"], location=root, encoded=True, pipeline="imagenet")
