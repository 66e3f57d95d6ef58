"""Tiny datasets written in official release layouts (a few classes, a few small JPEGs each).

Each class gets its own colour so a network can tell them apart; the files are real JPEGs that MindSpore and
pillow decode."""
import os

import numpy as np
from PIL import Image

WNIDS = ["n01440764", "n01443537", "n01484850"]  # three real ImageNet wnids, in sorted order


def write_jpeg(path, label, seed, size=24):
    rng = np.random.RandomState(seed)
    colour = np.array([(60 + 80 * label) % 256, (200 - 70 * label) % 256, (30 * label) % 256], np.float64)
    pixels = np.clip(colour + rng.randn(size, size, 3) * 25, 0, 255).astype(np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)


def imagenet_tree(root, train=4, val=2, val_layout="sorted", wnids=WNIDS):
    """ILSVRC-2012 layout.  ``val_layout``: sorted (val/<wnid>/), devkit (raw val/ + devkit ground truth and
    meta.mat, whose ILSVRC2012 IDs are deliberately not in sorted-wnid order) or kaggle (raw val/ +
    LOC_val_solution.csv).  Returns the validation labels (indices into sorted wnids) in file order."""
    seed = 0
    for label, wnid in enumerate(wnids):
        for i in range(train):
            write_jpeg(os.path.join(root, "train", wnid, f"{wnid}_{i}.JPEG"), label, seed := seed + 1)
    labels, names = [], []
    for i in range(val * len(wnids)):
        label = (i * 2 + 1) % len(wnids)
        name = f"ILSVRC2012_val_{i + 1:08d}.JPEG"
        folder = os.path.join(root, "val", wnids[label]) if val_layout == "sorted" else os.path.join(root, "val")
        write_jpeg(os.path.join(folder, name), label, 1000 + i)
        labels.append(label)
        names.append(name)
    if val_layout == "devkit":
        from scipy.io import savemat
        ids = {wnid: len(wnids) - k for k, wnid in enumerate(wnids)}  # ILSVRC2012_ID: reverse of sorted order
        data = os.path.join(root, "ILSVRC2012_devkit_t12", "data")
        os.makedirs(data)
        synsets = np.zeros((len(wnids),), dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O")])
        for k, wnid in enumerate(wnids):
            synsets[k] = (ids[wnid], wnid, f"class {k}")
        savemat(os.path.join(data, "meta.mat"), {"synsets": synsets})
        with open(os.path.join(data, "ILSVRC2012_validation_ground_truth.txt"), "w") as f:
            f.write("".join(f"{ids[wnids[label]]}\n" for label in labels))
    elif val_layout == "kaggle":
        with open(os.path.join(root, "LOC_val_solution.csv"), "w") as f:
            f.write("ImageId,PredictionString\n")
            for name, label in zip(names, labels):
                f.write(f"{name[:-5]},{wnids[label]} 1 2 3 4\n")
    return labels


def tiny_imagenet_tree(root, train=4, val=2, wnids=WNIDS, size=24):
    """Tiny-ImageNet layout: wnids.txt, train/<wnid>/images/*.JPEG (+ boxes file), val/images + annotations.
    Returns the validation labels in annotation order."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "wnids.txt"), "w") as f:
        f.write("".join(f"{w}\n" for w in reversed(wnids)))  # the release does not list them sorted either
    seed = 0
    for label, wnid in enumerate(wnids):
        for i in range(train):
            write_jpeg(os.path.join(root, "train", wnid, "images", f"{wnid}_{i}.JPEG"), label, seed := seed + 1, size)
        with open(os.path.join(root, "train", wnid, f"{wnid}_boxes.txt"), "w") as f:
            f.write("".join(f"{wnid}_{i}.JPEG\t0\t0\t10\t10\n" for i in range(train)))
    labels = []
    os.makedirs(os.path.join(root, "val", "images"))
    with open(os.path.join(root, "val", "val_annotations.txt"), "w") as f:
        for i in range(val * len(wnids)):
            label = (i + 2) % len(wnids)
            write_jpeg(os.path.join(root, "val", "images", f"val_{i}.JPEG"), label, 500 + i, size)
            f.write(f"val_{i}.JPEG\t{wnids[label]}\t0\t0\t10\t10\n")
            labels.append(label)
    return labels
