"""ImageNet (ILSVRC-2012) and Tiny-ImageNet in their official layouts.

ImageNet, ``data.name: imagenet``::

    ROOT/train/<wnid>/*.JPEG                   1,281,167 images, 1,000 classes
    ROOT/val/<wnid>/*.JPEG                     sorted validation layout (50,000 images), or
    ROOT/val/ILSVRC2012_val_<8 digits>.JPEG    the raw validation folder, labelled by the devkit:
    ROOT/ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt + .../data/meta.mat
                                               (read with SciPy), or by Kaggle's ROOT/LOC_val_solution.csv

Tiny-ImageNet, ``data.name: tiny_imagenet``::

    ROOT/wnids.txt, ROOT/train/<wnid>/images/*.JPEG (100,000 images, 200 classes, 64x64),
    ROOT/val/images/*.JPEG + ROOT/val/val_annotations.txt (file, wnid, box; 10,000 images)

Class indices are the sorted wnids, as torchvision's ``ImageFolder`` numbers them, so a converted torchvision
teacher and an ats_ms student agree on every label.
"""
import csv
import os
import re

from scipy.io import loadmat  # SciPy comes with MindSpore (one of its requirements)

from ats_ms.data import constants as C
from ats_ms.data.file_list import class_folders, file_list_dataset, images_in, read_text_lines, verify_as_configured
from ats_ms.data.source import Source, require_folder
from ats_ms.common.errors import DatasetError

WNID = re.compile(r"n\d{8}$")
DEVKIT = os.path.join("ILSVRC2012_devkit_t12", "data")


def _classes(train_dir, expected):
    require_folder(train_dir, "Training folder", expected)
    wnids = class_folders(train_dir)
    if not wnids:
        raise DatasetError(f"'{train_dir}' has no class folders. Expected {expected}")
    return wnids


def _listed(folder_of, wnids, recursive_hint):
    """Every image of every class folder; a class folder without images is an error naming it."""
    paths, labels = [], []
    for index, wnid in enumerate(wnids):
        folder = folder_of(wnid)
        if not os.path.isdir(folder):
            raise DatasetError(f"Class '{wnid}' has no folder '{folder}'. Expected {recursive_hint}")
        found = images_in(folder)
        if not found:
            raise DatasetError(f"Class folder '{folder}' holds no images. Remove the class or restore its files.")
        paths += found
        labels += [index] * len(found)
    return paths, labels


def _devkit_labels(root, files, wnids):
    """Raw validation folder: the devkit's ILSVRC2012 IDs (sorted file order), mapped to wnids by meta.mat."""
    truth = os.path.join(root, DEVKIT, "ILSVRC2012_validation_ground_truth.txt")
    meta = os.path.join(root, DEVKIT, "meta.mat")
    try:
        synsets = loadmat(meta, squeeze_me=True)["synsets"]
        id_to_wnid = {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets}
    except (ValueError, TypeError, KeyError, IndexError, OSError, NotImplementedError) as exc:
        raise DatasetError(f"'{meta}' cannot be read as the ILSVRC-2012 devkit's meta.mat ({type(exc).__name__}: "
                           f"{str(exc)[:120]}); it should be the MATLAB file with a 'synsets' table. Unpack the devkit "
                           "again, or sort val/ into val/<wnid>/ folders (see the Datasets page).") from None
    ids = []
    for number, line in enumerate(_text_lines(truth), start=1):
        if line.strip():
            if not line.strip().isdigit():
                raise DatasetError(f"'{truth}' line {number} is not an ILSVRC2012 class id: {line.strip()[:60]!r}.")
            ids.append(int(line))
    unknown = sorted(set(ids) - set(id_to_wnid))
    if unknown:
        raise DatasetError(f"'{truth}' uses class id {unknown[0]}, which '{meta}' does not define: the two files come "
                           "from different devkits.")
    if len(ids) != len(files):
        raise DatasetError(f"'{truth}' labels {len(ids):,} images but '{os.path.dirname(files[0])}' holds "
                           f"{len(files):,}: the validation folder is incomplete or holds other files.")
    return [id_to_wnid[i] for i in ids]


def _kaggle_labels(csv_path, files):
    table = {}
    for number, row in enumerate(csv.DictReader(_text_lines(csv_path)), start=2):
        image, prediction = row.get("ImageId"), row.get("PredictionString")
        if not image or not prediction or not prediction.split():
            raise DatasetError(f"'{csv_path}' row {number} has no {'ImageId' if not image else 'PredictionString'} "
                               f"({', '.join(f'{k}={v!r}' for k, v in row.items() if k)}); each row is "
                               "'ImageId,<wnid> <box> ...' as in the Kaggle release.")
        table[image] = prediction.split()[0]
    missing = [p for p in files if os.path.splitext(os.path.basename(p))[0] not in table]
    if missing:
        raise DatasetError(f"'{csv_path}' has no label for '{missing[0]}' ({len(missing)} images unlabelled).")
    return [table[os.path.splitext(os.path.basename(p))[0]] for p in files]


def _text_lines(path):
    """The lines of a UTF-8 list file; a byte that is not UTF-8 is named by file and line."""
    return read_text_lines(path, "Re-extract the file from the release.")


def _imagenet_val(root, wnids):
    val = os.path.join(root, "val")
    require_folder(val, "ImageNet validation folder", "val/<wnid>/*.JPEG, or val/*.JPEG with the devkit.")
    subfolders = class_folders(val)
    if subfolders:
        unknown = [d for d in subfolders if d not in wnids]
        if unknown:
            raise DatasetError(f"'{val}' has class folders not in train/ ({', '.join(unknown[:3])}): their labels would "
                               "fall outside the training classes.")
        index = {w: i for i, w in enumerate(wnids)}
        paths, labels = _listed(lambda w: os.path.join(val, w), subfolders, "val/<wnid>/*.JPEG.")
        return paths, [index[subfolders[i]] for i in labels]
    files = images_in(val)
    if not files:
        raise DatasetError(f"'{val}' holds neither class folders nor images. Expected val/<wnid>/*.JPEG, or the raw "
                           "val/*.JPEG with the devkit.")
    kaggle = os.path.join(root, "LOC_val_solution.csv")
    if os.path.isfile(os.path.join(root, DEVKIT, "meta.mat")):
        names = _devkit_labels(root, files, wnids)
    elif os.path.isfile(kaggle):
        names = _kaggle_labels(kaggle, files)
    else:
        raise DatasetError(f"'{val}' is the raw validation folder (images, no class folders) but no labels were found: "
                           f"expected {os.path.join(root, DEVKIT)}/ILSVRC2012_validation_ground_truth.txt and meta.mat "
                           f"(the ILSVRC-2012 devkit) or {kaggle}. Unpack the devkit into the root, or sort val/ into "
                           "val/<wnid>/ folders.")
    return _map_wnids(names, wnids, files, "the validation labels")


def _map_wnids(names, wnids, files, source):
    index = {w: i for i, w in enumerate(wnids)}
    unknown = sorted({n for n in names if n not in index})
    if unknown:
        at = files[names.index(unknown[0])]
        raise DatasetError(f"{source} name wnid '{unknown[0]}' (for '{at}'), which is not a training class "
                           f"({len(unknown)} unknown wnids in all). The files belong to another release.")
    return files, [index[n] for n in names]


def imagenet_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "ImageNet root", "train/<wnid>/*.JPEG and val/ (see the Datasets page).")
    wnids = _classes(os.path.join(root, "train"), "train/<wnid>/*.JPEG, one folder per class (n01440764 ...).")
    if split == "train":
        paths, labels = _listed(lambda w: os.path.join(root, "train", w), wnids, "train/<wnid>/*.JPEG.")
    else:
        paths, labels = _imagenet_val(root, wnids)
    verify_as_configured(cfg, paths)
    return _source("imagenet", split, paths, labels, wnids, cfg.image_size or 224, "imagenet", root)


def tiny_imagenet_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "Tiny-ImageNet root", "wnids.txt, train/<wnid>/images/ and val/images/ + "
                                               "val/val_annotations.txt.")
    listed = os.path.join(root, "wnids.txt")
    if not os.path.isfile(listed):
        raise DatasetError(f"'{listed}' is missing: it names the 200 classes of Tiny-ImageNet. Point data.root at the "
                           "unpacked tiny-imagenet-200/ folder.")
    wnids = sorted({line.strip() for line in _text_lines(listed) if line.strip()})
    if split == "train":
        paths, labels = _listed(lambda w: os.path.join(root, "train", w, "images"), wnids,
                                "train/<wnid>/images/*.JPEG for every wnid of wnids.txt.")
    else:
        notes = os.path.join(root, "val", "val_annotations.txt")
        if not os.path.isfile(notes):
            raise DatasetError(f"'{notes}' is missing: it labels the validation images (file, wnid, box per line).")
        files, names = [], []
        for number, line in enumerate(_text_lines(notes), start=1):
            parts = line.split("\t")
            if len(parts) < 2:
                raise DatasetError(f"'{notes}' line {number} is not 'file<TAB>wnid<TAB>box': {line.strip()[:80]!r}.")
            path = os.path.join(root, "val", "images", parts[0].strip())
            if not os.path.isfile(path):
                raise DatasetError(f"'{notes}' line {number} names '{path}', which does not exist.")
            files.append(path)
            names.append(parts[1].strip())
        paths, labels = _map_wnids(names, wnids, files, f"'{notes}'")
    verify_as_configured(cfg, paths)
    return _source("tiny_imagenet", split, paths, labels, wnids, cfg.image_size or 64, "cifar", root, resize=True)


def _source(name, split, paths, labels, wnids, size, pipeline, root, resize=False):
    def build(sampler, num_parallel_workers):
        return file_list_dataset(paths, labels, sampler, num_parallel_workers)

    return Source(name=name, split=split, num_samples=len(paths), num_classes=len(wnids), class_names=list(wnids),
                  image_size=size, build=build, mean_std=C.MEAN_STD["image_folder"], needs_resize=resize,
                  location=root, encoded=True, pipeline=pipeline)
