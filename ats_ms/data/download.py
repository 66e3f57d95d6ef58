"""Fetch an official CIFAR archive into the data root, verified and extracted atomically.

The archive is downloaded through ``ats_ms.common.fetch`` (resumable, renamed into place only once complete),
checked against its MD5, and extracted into a temporary folder inside the root that is renamed into place as the last
step.  A half-finished download or extraction therefore never looks like a usable dataset.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile

from ats_ms.common.fetch import CHUNK, fetch_file
from ats_ms.data import constants as C
from ats_ms.common.errors import DatasetError


def md5sum(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _safe_extract(archive, dest):
    try:
        tar = tarfile.open(archive, "r:*")  # pylint: disable=consider-using-with
    except (tarfile.TarError, EOFError) as exc:
        raise DatasetError(f"'{archive}' is not a tar archive ({exc}); the CIFAR releases are .tar.gz files. Delete "
                           "it and check data.url (and data.md5, which matched this file).") from None
    with tar:
        for member in tar.getmembers():
            target = os.path.realpath(os.path.join(dest, member.name))
            if not target.startswith(os.path.realpath(dest) + os.sep):
                raise DatasetError(f"Archive '{archive}' contains an unsafe path '{member.name}'; refusing to extract.")
        tar.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(dest)


def ensure_release(root, name, fmt, url=None, md5=None):
    """Make ``<root>/<release dir>`` exist, downloading and extracting it if needed.  Returns its path."""
    fmt = "binary" if fmt == "auto" else fmt
    dirname, archive_name, official_md5 = C.RELEASES[(name, fmt)]
    final = os.path.join(root, dirname)
    if os.path.isdir(final):
        return final
    os.makedirs(root, exist_ok=True)
    url = url or C.OFFICIAL_SITE + archive_name
    md5 = md5 or official_md5
    archive = os.path.join(root, archive_name)
    if not (os.path.exists(archive) and md5sum(archive) == md5):
        fetch_file(url, archive, "Check data.url, or download the archive by hand into the data root.",
                   error=DatasetError)
        got = md5sum(archive)
        if got != md5:
            os.replace(archive, archive + ".bad")
            raise DatasetError(f"Archive from '{url}' has MD5 {got}, expected {md5}: the download is corrupt or "
                               f"not the {name.upper()} {fmt} release. It was moved to '{archive}.bad'; run again "
                               "to download it afresh.")
    staging = tempfile.mkdtemp(prefix=".extract-", dir=root)
    try:
        _safe_extract(archive, staging)
        extracted = os.path.join(staging, dirname)
        if not os.path.isdir(extracted):
            raise DatasetError(f"Archive '{archive}' does not contain '{dirname}/'; it is not the {name.upper()} "
                               f"{fmt} release. Fix data.url / data.format.")
        os.replace(extracted, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
