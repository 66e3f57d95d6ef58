"""Write small CIFAR releases in both official formats for tests.

MindSpore's binary readers insist on the official file sizes, so binary files get the real records
first and are then extended (sparsely) to full size; tests read only the first records.
"""
import os
import pickle

import numpy as np

from ats_ms.data import constants as C


def random_split(n, classes, seed):
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.randint(0, classes, size=n).astype(np.int32)
    return images, labels


def _records(images, labels, coarse=None):
    chw = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    cols = [labels.reshape(-1, 1)] if coarse is None else [coarse.reshape(-1, 1), labels.reshape(-1, 1)]
    return np.concatenate(cols + [chw], axis=1).astype(np.uint8)


def _write_padded(path, records, full_bytes):
    records.tofile(path)
    with open(path, "r+b") as f:
        f.truncate(full_bytes)


def write_binary(root, name, train, test):
    """``train``/``test`` are (images, labels); CIFAR-100 gets coarse = fine // 5."""
    dirname = C.RELEASES[(name, "binary")][0]
    path = os.path.join(root, dirname)
    os.makedirs(path, exist_ok=True)
    rec = C.BINARY_RECORD_BYTES[name]
    for split, (images, labels) in (("train", train), ("test", test)):
        full = rec * C.RECORDS_PER_FILE[(name, split)]
        for i, fname in enumerate(C.BINARY_FILES[name][split]):
            part = (images, labels) if i == 0 else (images[:0], labels[:0])
            coarse = part[1] // 5 if name == "cifar100" else None
            _write_padded(os.path.join(path, fname), _records(part[0], part[1], coarse), full)
    meta = "batches.meta.txt" if name == "cifar10" else "fine_label_names.txt"
    with open(os.path.join(path, meta), "w") as f:
        f.write("\n".join(f"class{i}" for i in range(C.NUM_CLASSES[name])) + "\n")
    return path


def write_python(root, name, train, test):
    dirname = C.RELEASES[(name, "python")][0]
    path = os.path.join(root, dirname)
    os.makedirs(path, exist_ok=True)
    for split, (images, labels) in (("train", train), ("test", test)):
        files = C.PYTHON_FILES[name][split]
        chunks = np.array_split(np.arange(len(labels)), len(files))
        for fname, idx in zip(files, chunks):
            chw = images[idx].transpose(0, 3, 1, 2).reshape(len(idx), 3072)
            batch = {b"data": chw}
            if name == "cifar10":
                batch[b"labels"] = [int(v) for v in labels[idx]]
            else:
                batch[b"fine_labels"] = [int(v) for v in labels[idx]]
                batch[b"coarse_labels"] = [int(v) // 5 for v in labels[idx]]
            with open(os.path.join(path, fname), "wb") as f:
                pickle.dump(batch, f)
    return path
