"""axe-core, the accessibility rules engine the browser tests inject into every page.

Fetched from the npm registry by a pinned version and checked by its registry integrity
hash, then kept in ``build/`` (``python -m devtools.axe`` fetches it ahead of time).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

import requests

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
SCRIPT = Path(__file__).resolve().parent.parent / "build" / f"axe-core-{VERSION}.min.js"
# The WCAG 2.0, 2.1 and 2.2 success criteria of levels A and AA, as axe tags its rules.
WCAG_22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")


def script() -> str:
    """axe.min.js, fetched once and checked against its pinned hash."""
    if not SCRIPT.exists():
        tarball = requests.get(TARBALL, timeout=120).content
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        if digest != INTEGRITY:
            raise RuntimeError(f"{TARBALL} does not match its pinned integrity hash")
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            source = member.read()
        SCRIPT.parent.mkdir(parents=True, exist_ok=True)
        partial = SCRIPT.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(source)
        partial.replace(SCRIPT)  # whole or absent, also with tests running side by side
    return SCRIPT.read_text()


if __name__ == "__main__":
    print(f"axe-core {VERSION}: {len(script())} characters in {SCRIPT}")
    sys.exit(0)
