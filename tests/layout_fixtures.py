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


def write_wav(path, frequency, samples=16000, rate=16000, channels=1, seed=0):
    import wave
    rng = np.random.RandomState(seed)
    t = np.arange(samples) / rate
    signal = 0.3 * np.sin(2 * np.pi * frequency * t) + 0.02 * rng.randn(samples)
    data = (np.clip(signal, -1, 1) * 32767).astype("<i2")
    if channels == 2:
        data = np.repeat(data, 2)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(data.tobytes())


SPEECH_WORDS = ["down", "go", "yes"]


def speech_commands_tree(root, words=SPEECH_WORDS, speakers=6, background=True):
    """v0.02 layout: <word>/<speaker>_nohash_0.wav, one pure tone per word (learnable), the two list files naming
    one speaker's clip of each word each, and a 3-second background-noise recording.  Returns {split: [rel]}."""
    rels = []
    for k, word in enumerate(words):
        for s in range(speakers):
            rel = f"{word}/{s:08x}_nohash_0.wav"
            write_wav(os.path.join(root, rel), 300 + 250 * k, samples=16000 - 800 * (s % 2), seed=k * 10 + s)
            rels.append(rel)
    valid = [r for r in rels if r.split("/")[1].startswith(f"{0:08x}")]
    test = [r for r in rels if r.split("/")[1].startswith(f"{1:08x}")]
    with open(os.path.join(root, "validation_list.txt"), "w") as f:
        f.write("".join(r + "\n" for r in valid))
    with open(os.path.join(root, "testing_list.txt"), "w") as f:
        f.write("".join(r + "\n" for r in test))
    if background:
        write_wav(os.path.join(root, "_background_noise_", "white_noise.wav"), 50, samples=48000, seed=99)
    return {"valid": valid, "test": test, "train": [r for r in rels if r not in valid and r not in test]}


def cub_tree(root, classes=3, per_class=4):
    """CUB_200_2011 layout; every second image of a class is a training image."""
    lines = {"images.txt": [], "image_class_labels.txt": [], "train_test_split.txt": [], "classes.txt": []}
    image_id = 0
    for c in range(1, classes + 1):
        folder = f"{c:03d}.Bird_{c}"
        lines["classes.txt"].append(f"{c} {folder}")
        for i in range(per_class):
            image_id += 1
            rel = f"{folder}/Bird_{c}_{i:04d}.jpg"
            write_jpeg(os.path.join(root, "images", rel), c - 1, image_id)
            lines["images.txt"].append(f"{image_id} {rel}")
            lines["image_class_labels.txt"].append(f"{image_id} {c}")
            lines["train_test_split.txt"].append(f"{image_id} {1 if i % 2 == 0 else 0}")
    for name, rows in lines.items():
        with open(os.path.join(root, name), "w") as f:
            f.write("\n".join(rows) + "\n")


def dogs_tree(root, breeds=3, per_breed=4):
    """Stanford Dogs layout with MATLAB lists (written with SciPy, as the release ships them)."""
    from scipy.io import savemat
    folders = [f"n0208{5000 + b}-Breed_{b}" for b in range(breeds)]
    split = {"train": ([], []), "test": ([], [])}
    for b, folder in enumerate(folders):
        for i in range(per_breed):
            rel = f"{folder}/{folder.split('-')[0]}_{i}.jpg"
            write_jpeg(os.path.join(root, "Images", rel), b, 100 * b + i)
            files, labels = split["train" if i < per_breed // 2 else "test"]
            files.append(rel)
            labels.append(b + 1)
    for name, (files, labels) in split.items():
        savemat(os.path.join(root, f"{name}_list.mat"),
                {"file_list": np.array(files, dtype=object), "annotation_list": np.array(files, dtype=object),
                 "labels": np.array(labels, dtype=np.uint8)})
    return folders
