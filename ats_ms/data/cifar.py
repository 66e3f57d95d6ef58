"""CIFAR-10 / CIFAR-100 from either official release: binary (read by MindSpore's own
``Cifar10Dataset`` / ``Cifar100Dataset``) or python-pickle (read into memory, served by a random-access
``GeneratorDataset``).  Both give identical pixels for the same image.

Everything that can be wrong with a data root is checked up front, so a user sees "this file is
truncated" instead of a C++ traceback from the reader.
"""
import io
import os
import pickle

import numpy as np
import mindspore as ms
import mindspore.dataset as ds
import mindspore.dataset.transforms as T

from ats_ms.data import constants as C
from ats_ms.data.source import Source, require_folder
from ats_ms.common.errors import DatasetError


def _layout_dir(root, name, fmt):
    dirname = C.RELEASES[(name, fmt)][0]
    if os.path.basename(os.path.normpath(root)) == dirname:
        return root
    return os.path.join(root, dirname)


def find_layout(root, name, fmt="auto"):
    """Return (format, directory) of the release found under ``root``; binary wins under ``auto``."""
    require_folder(root, "Data root", f"a folder holding {C.RELEASES[(name, 'binary')][0]}/ or "
                                      f"{C.RELEASES[(name, 'python')][0]}/ (data.download=true fetches the official "
                                      "archive into it).")
    formats = ("binary", "python") if fmt == "auto" else (fmt,)
    for f in formats:
        path = _layout_dir(root, name, f)
        if os.path.isdir(path):
            return f, path
    other = "cifar100" if name == "cifar10" else "cifar10"
    for f in ("binary", "python"):
        if os.path.isdir(_layout_dir(root, other, f)):
            raise DatasetError(f"'{root}' holds {other.upper()} ({C.RELEASES[(other, f)][0]}/), but data.name is "
                               f"'{name}'. Set data.name={other} (and model.num_classes accordingly), or point "
                               f"data.root at a {name.upper()} release.")
    wanted = " or ".join(C.RELEASES[(name, f)][0] + "/" for f in formats)
    raise DatasetError(f"No {name.upper()} release found under '{root}': expected {wanted} inside it "
                       f"(the official archives from {C.OFFICIAL_SITE}, extracted). "
                       "Set data.download=true to fetch it, or fix data.root / data.format.")


def _check_binary_files(path, name, split):
    rec = C.BINARY_RECORD_BYTES[name]
    count = C.RECORDS_PER_FILE[(name, split)]
    files = []
    for fname in C.BINARY_FILES[name][split]:
        fpath = os.path.join(path, fname)
        if not os.path.isfile(fpath):
            raise DatasetError(f"CIFAR binary file '{fpath}' is missing; the {split} split of "
                               f"{C.RELEASES[(name, 'binary')][0]}/ needs {', '.join(C.BINARY_FILES[name][split])}. "
                               "Re-extract the official archive.")
        size = os.path.getsize(fpath)
        if size != rec * count:
            raise DatasetError(f"CIFAR binary file '{fpath}' has {size} bytes, expected {rec * count} "
                               f"({count} records of {rec} bytes): the file is truncated or not a "
                               f"{name.upper()} file. Re-download and re-extract the archive.")
        files.append(fpath)
    return files


def _binary_labels(files, name):
    """Every record's label, read from the label bytes alone."""
    rec = C.BINARY_RECORD_BYTES[name]
    offset = 0 if name == "cifar10" else 1
    return np.concatenate([np.memmap(f, dtype=np.uint8, mode="r").reshape(-1, rec)[:, offset] for f in files])


def _check_binary_labels(files, name, limit):
    """Read only the label bytes of the records that will be used."""
    rec = C.BINARY_RECORD_BYTES[name]
    offset = 0 if name == "cifar10" else 1  # CIFAR-100: coarse byte, then the fine label we train on
    remaining = limit
    for fpath in files:
        mm = np.memmap(fpath, dtype=np.uint8, mode="r").reshape(-1, rec)
        labels = mm[: remaining, offset] if remaining is not None else mm[:, offset]
        bad = np.nonzero(labels >= C.NUM_CLASSES[name])[0]
        if bad.size:
            raise DatasetError(f"'{fpath}' record {int(bad[0])} has label {int(labels[bad[0]])}, outside the "
                               f"{C.NUM_CLASSES[name]} classes of {name.upper()}: the file is corrupt or from "
                               "another dataset.")
        if remaining is not None:
            remaining -= len(labels)
            if remaining <= 0:
                break


class _CifarUnpickler(pickle.Unpickler):
    """Builds only what a CIFAR python batch holds: dicts, lists, strings/bytes, numbers and numpy arrays.

    The python release of CIFAR is a pickle, and a plain ``pickle.load`` runs whatever code a crafted file
    names.  Every global a pickle may import is checked against this allowlist; anything else (``os.system``,
    ``subprocess``, ``builtins.eval`` ...) is refused before it can run."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not something a CIFAR file contains")


def restricted_load(data):
    return _CifarUnpickler(io.BytesIO(data), encoding="bytes").load()


def _load_pickle(fpath):
    try:
        with open(fpath, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise DatasetError(f"CIFAR python file '{fpath}' is missing. Re-extract the official archive.") from None
    except OSError as exc:
        raise DatasetError(f"CIFAR python file '{fpath}' cannot be read ({exc.strerror or exc}).") from None
    try:
        return restricted_load(data)
    except pickle.UnpicklingError as exc:
        if "is not something a CIFAR file contains" in str(exc):
            raise DatasetError(f"CIFAR python file '{fpath}' asks to run code ({exc}); it was refused and nothing was "
                               "executed. This is not an official CIFAR file: delete it and re-download the "
                               "archive.") from None
        raise DatasetError(f"CIFAR python file '{fpath}' cannot be read (UnpicklingError: {exc}); it is truncated or "
                           "corrupt. Re-download and re-extract the archive.") from None
    except Exception as exc:  # pylint: disable=broad-except  (pickle raises many types on corrupt input)
        raise DatasetError(f"CIFAR python file '{fpath}' cannot be read ({type(exc).__name__}: {exc}); it is "
                           "truncated or corrupt. Re-download and re-extract the archive.") from None


def _read_python(path, name, split):
    label_key = b"labels" if name == "cifar10" else b"fine_labels"
    images, labels = [], []
    for fname in C.PYTHON_FILES[name][split]:
        fpath = os.path.join(path, fname)
        batch = _load_pickle(fpath)
        if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
            keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in batch) if isinstance(batch, dict) else []
            raise DatasetError(f"'{fpath}' is not a {name.upper()} python batch: expected keys 'data' and "
                               f"'{label_key.decode()}', found {keys}. Is data.name right?")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3072 or len(batch[label_key]) != data.shape[0]:
            raise DatasetError(f"'{fpath}' holds data of shape {data.shape} for {len(batch[label_key])} labels; "
                               "expected N x 3072 pixels and N labels. The file is corrupt.")
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[label_key], dtype=np.int64))
    images, labels = np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)
    if labels.min() < 0 or labels.max() >= C.NUM_CLASSES[name]:
        raise DatasetError(f"'{path}' {split} labels span {labels.min()}..{labels.max()}, outside the "
                           f"{C.NUM_CLASSES[name]} classes of {name.upper()}.")
    return images, labels.astype(np.int32)


def _class_names(path, name, fmt):
    try:
        if fmt == "binary":
            fname = "batches.meta.txt" if name == "cifar10" else "fine_label_names.txt"
            with open(os.path.join(path, fname), encoding="utf-8") as f:
                names = [line.strip() for line in f if line.strip()]
        else:
            meta = _load_pickle(os.path.join(path, "batches.meta" if name == "cifar10" else "meta"))
            key = b"label_names" if name == "cifar10" else b"fine_label_names"
            names = [n.decode() for n in meta[key]]
    except (OSError, KeyError, DatasetError):
        names = []
    n = C.NUM_CLASSES[name]
    return names if len(names) == n else [str(i) for i in range(n)]


class ArraySource:
    """Random-access source for ``GeneratorDataset`` over in-memory arrays."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __len__(self):
        return len(self.labels)


def array_dataset(images, labels, sampler, num_parallel_workers):
    """Mappable dataset over numpy arrays (also used by the digits source)."""
    del num_parallel_workers  # indexing numpy is cheaper than shipping rows to worker processes
    return ds.GeneratorDataset(ArraySource(images, labels), ["image", "label"], sampler=sampler,
                               python_multiprocessing=False)


def cifar_source(cfg, split, limit=None):
    name = cfg.name
    fmt, path = find_layout(cfg.root, name, cfg.format)
    usage = "train" if split == "train" else "test"
    total = C.RECORDS_PER_FILE[(name, usage)] * len(C.BINARY_FILES[name][usage])
    if fmt == "binary":
        files = _check_binary_files(path, name, usage)
        _check_binary_labels(files, name, limit)

        def labels():
            return _binary_labels(files, name)

        def build(sampler, num_parallel_workers):
            reader = ds.Cifar10Dataset if name == "cifar10" else ds.Cifar100Dataset
            data = reader(path, usage=usage, sampler=sampler, num_parallel_workers=num_parallel_workers)
            if name == "cifar100":
                data = data.project(["image", "fine_label"]).rename(["fine_label"], ["label"])
            return data.map(T.TypeCast(ms.int32), input_columns="label")
    else:
        images, label_array = _read_python(path, name, usage)
        total = len(label_array)

        def build(sampler, num_parallel_workers):
            return array_dataset(images, label_array, sampler, num_parallel_workers)

        def labels():
            return label_array

    return Source(name=name, split=split, num_samples=total, num_classes=C.NUM_CLASSES[name],
                  class_names=_class_names(path, name, fmt), image_size=32, build=build,
                  mean_std=C.MEAN_STD[name], location=path, labels=labels)
