"""Fetch third-party browser code (htmx) from the npm registry, pinned and checked.

Third-party code is not committed: set-up runs this script, which asks npm for
the pinned tarball, checks it against the pinned sha512 integrity and copies the
one file the app serves into static/vendor/. Participants' browsers then load
htmx from this app, never from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"

# (npm package, version, sha512 integrity from the registry, file in the tarball, file served)
PINNED = [
    (
        "htmx.org",
        "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        "package/dist/htmx.min.js",
        "htmx.min.js",
    ),
]


def integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(name: str, version: str, expected: str, member: str, target: str) -> None:
    out = VENDOR / target
    stamp = VENDOR / f"{target}.integrity"
    if out.exists() and stamp.exists() and stamp.read_text().strip() == expected:
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                       check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        got = integrity(tarball)
        if got != expected:
            sys.exit(f"{name}@{version}: integrity mismatch, expected {expected}, got {got}")
        with tarfile.open(tarball) as tar:
            data = tar.extractfile(member)
            if data is None:
                sys.exit(f"{name}@{version}: {member} missing from the tarball")
            VENDOR.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data.read())
    stamp.write_text(expected + "\n")
    print(f"fetched {name}@{version} -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    for row in PINNED:
        fetch(*row)
