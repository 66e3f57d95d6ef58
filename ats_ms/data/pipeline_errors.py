"""MindSpore's dataset pipeline fails mid-epoch with a C++ error page; say instead which file and what to do.

A file that cannot be decoded is normally found before training (``data.verify_images``); with that check off,
MindSpore raises ``RuntimeError: Exception thrown from dataset pipeline ...`` from inside ``Model.train`` or an
evaluation loop, with the offending path somewhere in its "Dataset Pipeline Error Message" section.
"""
import contextlib
import glob
import re

from ats_ms.common.errors import DatasetError

PIPELINE_MARK = "Exception thrown from dataset pipeline"
_FILE_PATTERNS = (re.compile(r"Invalid (?:image|file)[,:]?\s+(\S+?)\s+(?:decode failed|is broken|cannot)"),
                  re.compile(r"(?:file|path)[:\s]+['\"]?([^'\"\s,]+\.\w{2,5})['\"]?", re.I))


def _message_of(text):
    """The pipeline's own error line(s), without MindSpore's banner and C++ call stack."""
    body = text.split("Dataset Pipeline Error Message:", 1)[-1]
    body = body.split("C++ Call Stack", 1)[0]
    lines = [line.strip(" -") for line in body.splitlines() if line.strip(" -")]
    return " ".join(lines)[:300]


def offending_file(text):
    for pattern in _FILE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


@contextlib.contextmanager
def pipeline_errors(data_cfg):
    """Turn a dataset-pipeline failure inside the block into a ``DatasetError``; other errors pass unchanged."""
    try:
        yield
    except RuntimeError as exc:
        text = str(exc)
        if PIPELINE_MARK not in text:
            raise
        found = offending_file(text)
        what = f"'{found}' cannot be read" if found else "a sample cannot be read"
        check = ("Remove or replace it (data.verify_images=true opens every file before training and names each "
                 "unreadable one)" if not data_cfg.verify_images else "Remove or replace it")
        dumped = sorted(glob.glob("abnormal_image.*"))  # MindSpore's decoder writes what it could not decode here
        left = (f" MindSpore wrote the bytes it could not decode to ./{dumped[0]}; delete it when done."
                if dumped else "")
        raise DatasetError(f"The {data_cfg.name} data pipeline stopped: {what} ({_message_of(text)}). {check}, then "
                           "run the same command with --resume: the run continues from its last saved state."
                           + left) from None
