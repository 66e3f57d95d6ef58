"""Downloading one file: resumable, and never a half-written file under the final name.

The file is written to ``<dest>.part`` (resumed with an HTTP Range request after an interruption, restarted when
the server ignores the range) and renamed to ``dest`` only once complete.  Datasets (``ats_ms.data.download``)
and published teachers (``ats_ms.interop.zoo``) both fetch through here; each checks the content its own way.
"""
import os
import shutil
import urllib.error
import urllib.request

from ats_ms.common.errors import AtsError

CHUNK = 1 << 20


def fetch_file(url, dest, by_hand, error=AtsError, timeout=60):
    """Download ``url`` to ``dest``.  ``by_hand`` ends the error paragraph (what else the user can do);
    failures raise ``error``."""
    part = dest + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            resumed = have and resp.status == 206
            with open(part, "ab" if resumed else "wb") as out:
                shutil.copyfileobj(resp, out, CHUNK)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # range beyond the end: the part file is already complete
            pass
        else:
            raise error(f"Downloading '{url}' failed: HTTP {exc.code} {exc.reason}. {by_hand}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        got = os.path.getsize(part) if os.path.exists(part) else 0
        kept = (f"The partial file '{part}' ({got:,} bytes) is kept and the next run resumes it"
                if got else "Nothing was downloaded")
        raise error(f"Downloading '{url}' failed ({exc}). {kept}; {by_hand[:1].lower() + by_hand[1:]}") from None
    os.replace(part, dest)
