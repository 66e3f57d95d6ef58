"""Published teachers by name: where each is released, what it is, and fetching it with its hash checked.

A release file's name carries the start of its SHA-256 (``resnet56-4bfd9763.th``, ``cifar100_resnet56-f2eff4c8.pt``),
so a download is checked against its own name before anything is converted: a changed release or a broken
transfer is refused, never converted.  Downloads go to ``<cache>/zoo/`` (``$ATS_MS_CACHE_DIR``, else
``$XDG_CACHE_HOME/ats_ms``, else ``~/.cache/ats_ms``) and are reused; ``mirror`` replaces the release address's
folder (a local copy, or a test's server).  ``python -m ats_ms.zoo`` and ``python -m ats_ms.convert --from NAME``
are the commands over this module.
"""
import os
import re
from dataclasses import dataclass

from ats_ms.common.errors import CheckpointError
from ats_ms.common.fetch import fetch_file
from ats_ms.interop import published

AKAMASTER = "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/"
CHENYAOFO = "https://github.com/chenyaofo/pytorch-cifar-models/releases/download/resnet/"


@dataclass(frozen=True)
class Teacher:
    name: str         # what a user asks for
    file: str         # the release's file name (its hex suffix is the start of the file's SHA-256)
    url: str
    arch: str         # the ats_ms network it converts to
    dataset: str      # what it was trained on
    top1: float       # published top-1 % on that dataset's test set
    source: str

    @property
    def sha256_prefix(self):
        return re.search(r"-([0-9a-f]{8})\.", self.file)[1]


def _entries():
    out = []
    for file, error in published.HE2016_FILES.items():
        depth = file.split("-")[0]
        out.append(Teacher(f"he2016_{depth}", file, AKAMASTER + file, f"{depth}_a", "cifar10",
                           round(100 - error, 2), published.SOURCE_HE2016))
    for file, top1 in published.CHENYAOFO_FILES.items():
        name = file.split("-")[0]
        out.append(Teacher(name, file, CHENYAOFO + file, name.split("_")[1], name.split("_")[0], top1,
                           published.SOURCE_CHENYAOFO))
    return {t.name: t for t in out}


TEACHERS = _entries()


def get(name):
    if name not in TEACHERS:
        import difflib  # pylint: disable=import-outside-toplevel
        close = difflib.get_close_matches(name, TEACHERS, n=3)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise CheckpointError(f"'{name}' is not a published teacher ats_ms knows.{hint} python -m ats_ms.zoo lists them "
                              f"({len(TEACHERS)}).")
    return TEACHERS[name]


def cache_folder():
    from ats_ms.cpu_conv.build import cache_root  # pylint: disable=import-outside-toplevel  (the one cache root)
    return os.path.join(cache_root(), "zoo")


def fetch(teacher, mirror=None, folder=None):
    """The release file of ``teacher`` on disk, downloaded if needed and checked against its name's SHA-256.
    Returns its path."""
    folder = folder or cache_folder()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"Cannot create the download folder '{folder}' ({exc.strerror}); set ATS_MS_CACHE_DIR to "
                              "a writable folder.") from None
    path = os.path.join(folder, teacher.file)
    if os.path.isfile(path) and published.sha256(path).startswith(teacher.sha256_prefix):
        return path
    url = mirror.rstrip("/") + "/" + teacher.file if mirror else teacher.url
    fetch_file(url, path, f"Or download {teacher.url} by hand and convert it with python -m ats_ms.convert --input "
                          f"{teacher.file} --output {teacher.name}.ckpt.", error=CheckpointError)
    digest = published.sha256(path)
    if not digest.startswith(teacher.sha256_prefix):
        os.replace(path, path + ".bad")
        raise CheckpointError(f"The file downloaded from '{url}' has SHA-256 {digest[:16]}..., but its release name "
                              f"{teacher.file} promises one starting {teacher.sha256_prefix}: it is not the published "
                              f"file (a changed release, a wrong mirror or a broken transfer). It was moved to "
                              f"'{path}.bad' and nothing was converted; run again to download it afresh.")
    return path
