"""A dataset given as a list of (image file, label): the reader behind every layout that is not one folder per
class (ImageNet's raw validation folder, Tiny-ImageNet, CUB-200-2011, Stanford Dogs).

Files are read as raw bytes by a random-access ``GeneratorDataset`` in one thread (reading is cheap; more
Python threads contend for the GIL: two made a Tiny-ImageNet pipeline 15x slower, measured) and decoded by
MindSpore's C++ ``Decode`` in the map that follows, whose workers do the parallel work, like
``ImageFolderDataset`` does internally.  Being random-access, the dataset takes the same samplers as every other source (shuffling,
subsets, data-parallel shards).
"""
import os

import mindspore as ms
import mindspore.dataset as ds
import numpy as np

from ats_ms.common.errors import DatasetError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


class _FileReader:
    """Random-access (bytes, label) pairs."""

    def __init__(self, paths, labels):
        self.paths, self.labels = list(paths), np.asarray(labels, np.int32)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return np.fromfile(self.paths[index], np.uint8), self.labels[index]


def file_list_dataset(paths, labels, sampler, num_parallel_workers):
    """Columns ``image`` (encoded bytes, to be decoded by the pipeline) and ``label`` (int32).
    ``num_parallel_workers`` is taken by the decoding map, not here (see the module doc)."""
    del num_parallel_workers
    reader = _FileReader(paths, labels)
    data = ds.GeneratorDataset(reader, ["image", "label"], sampler=sampler, python_multiprocessing=False,
                               num_parallel_workers=1)
    return data.map(ds.transforms.TypeCast(ms.int32), input_columns="label")


def read_text_lines(path, fix):
    """The lines of a UTF-8 text file (the release lists of every dataset are ASCII); a line that is not UTF-8 is
    a ``DatasetError`` naming the file and the line, with ``fix``."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DatasetError(f"'{path}' cannot be read ({exc.strerror or exc}).") from None
    lines = raw.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"'{path}' line {number} is not UTF-8 text (byte {exc.start + 1}: "
                               f"{line[exc.start:exc.start + 1]!r}); the release's lists are plain ASCII. {fix}") from None
    return [line.decode("utf-8") for line in lines]


def visible(name):
    """Hidden entries (``.DS_Store``, macOS ``._<name>`` copies, ``.ipynb_checkpoints``) are never data."""
    return not name.startswith(".")


def class_folders(folder):
    """The class folders of ``folder``, sorted: its visible sub-folders (files and hidden entries are ignored)."""
    return sorted(d for d in os.listdir(folder) if visible(d) and os.path.isdir(os.path.join(folder, d)))


def images_in(folder, recursive=False):
    """Sorted image files of ``folder`` (by extension, case-insensitive; hidden files ignored)."""
    if recursive:
        found = []
        for dirpath, subdirs, names in os.walk(folder):
            subdirs[:] = [d for d in subdirs if visible(d)]
            found += [os.path.join(dirpath, n) for n in names if visible(n)]
    else:
        found = [os.path.join(folder, n) for n in os.listdir(folder) if visible(n)]
    return sorted(p for p in found if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(p))


AUTO_VERIFY_MAX = 100_000  # data.verify_images: null opens every file first only for splits up to this size


def verify_as_configured(cfg, paths):
    """``data.verify_images``: true, false, or null = verify splits of up to ``AUTO_VERIFY_MAX`` files."""
    verify = cfg.verify_images if cfg.verify_images is not None else len(paths) <= AUTO_VERIFY_MAX
    if verify:
        verify_files(paths, " (data.verify_images=false skips this check; an unreadable file then stops the run "
                            "when it is reached, naming it)")


def verify_files(paths, limit_message=""):
    """Open every file with pillow; the first unreadable one stops with its path."""
    from PIL import Image  # pylint: disable=import-outside-toplevel
    for p in paths:
        try:
            with Image.open(p) as img:
                img.verify()
        except Exception as exc:  # pylint: disable=broad-except
            raise DatasetError(f"Image '{p}' cannot be decoded ({type(exc).__name__}: {exc}). Remove or replace it, "
                               f"then run again{limit_message}.") from None
