"""Atomic folder writes and file hashes: a failed or interrupted write never leaves a half folder.

Every artifact of this stage (converted base model, dataset, adapter) is built in a temporary
sibling folder and renamed into place, so readers see either the old folder or the complete new
one. A full disk (ENOSPC/EDQUOT) becomes `DiskFullError` with the temporary folder removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from finetune.errors import DiskFullError

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
# torch.save and safetensors report a full disk as RuntimeError / SafetensorError text, not OSError
_DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "StorageFull", "file write failed",
                   "unexpected pos")  # torch.save on a full tmpfs: "PytorchStreamWriter ... unexpected pos"


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """Hex sha256 of one file, read in blocks (weights files are hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def sha256_files(paths: list[Path]) -> str:
    """One digest over several files: sha256 of their `sha256sum` lines (hash, two spaces, name), sorted by name.

    The same as `sha256sum FILES | sha256sum` run in their folder, so an engineer can recompute it.
    """
    lines = "".join(f"{sha256_file(p)}  {p.name}\n" for p in sorted(paths, key=lambda p: p.name))
    return hashlib.sha256(lines.encode()).hexdigest()


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: the form every hash in this stage is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_disk_full(exc: BaseException | None) -> bool:
    """True when an error (or one it wraps) says the disk or quota is full."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return True
        if any(t in str(exc) for t in _DISK_FULL_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `target`; on success it replaces `target` in one rename.

    On any error the temporary folder is removed and `target` is left as it was; a full disk is
    re-raised as DiskFullError naming the folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_disk_full(exc):
            raise DiskFullError(f"the disk is full while writing {target}; nothing was kept. "
                                "Free some space and retry.") from exc
        raise


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed): one converter at a time across processes."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_stale_tmp(folder: Path) -> None:
    """Remove temporary folders a killed process left beside its artifacts (names from atomic_dir)."""
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_dir() and p.name.startswith(".") and (".tmp-" in p.name or ".old-" in p.name):
                shutil.rmtree(p, ignore_errors=True)
