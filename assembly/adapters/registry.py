"""The adapter registry: where files live, who may see an adapter, and registering one without half-writes.

Rule: a registry row exists only with its complete files, and files stay only for a row.
`register` moves the finished adapter folder into place and writes its archive, then inserts the
row; if anything fails the new files are removed. A process killed between the two leaves files
without a row, which `sweep_orphans` removes when a worker starts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlmodel import Session, select

from assembly.adapters.models import Adapter, TrainingRun
from assembly.models import Assembly, Facilitator
from assembly.tasks import on_worker_start

log = logging.getLogger(__name__)

# Hugging Face repository names: letters, digits, '-', '_', '.'; no '--' or '..'; not starting or ending with '-'/'.'.
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
LATEST = "latest"  # the alias repository SLUG/latest (see latest_adapter)
_BLOCK = 1 << 20


def finetune_dir(app: Flask | None = None) -> Path:
    """FINETUNE_DIR, or instance/finetune: datasets, runs, adapters and converted base models."""
    app = app or current_app
    path = Path(app.config["FINETUNE_DIR"] or Path(app.instance_path) / "finetune")
    path.mkdir(parents=True, exist_ok=True)
    return path


def adapter_dir(app: Flask, adapter: Adapter) -> Path:
    return finetune_dir(app) / adapter.path


def archive_path(app: Flask, adapter: Adapter) -> Path:
    return finetune_dir(app) / f"{adapter.path}.tar.gz"


def check_name(name: str) -> str:
    """A valid adapter name (the NAME of the repository SLUG/NAME), or ValueError saying what is allowed."""
    name = (name or "").strip()
    if not NAME_RE.match(name) or "--" in name or ".." in name:
        raise ValueError("an adapter name is 1-96 letters, digits, '-', '_' or '.', starting and ending with a "
                         "letter or digit, without '--' or '..'")
    if name.lower() == LATEST:
        raise ValueError("'latest' is reserved: SLUG/latest always names the assembly's current adapter")
    return name


def default_name(constitution_number: int, method: str, run_id: int) -> str:
    return f"c{constitution_number}-{method.replace('+', '-')}-r{run_id}"


def _file_entry(root: Path, path: Path) -> dict[str, Any]:
    sha, git = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    size = path.stat().st_size
    git.update(f"blob {size}\0".encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(_BLOCK):
            sha.update(chunk)
            git.update(chunk)
    return {"path": path.relative_to(root).as_posix(), "size": size, "sha256": sha.hexdigest(),
            "git_sha1": git.hexdigest()}


def manifest(folder: Path) -> list[dict[str, Any]]:
    """Every file of the folder (sorted by path) with its size, sha256 and git blob sha1."""
    return [_file_entry(folder, p) for p in sorted(folder.rglob("*")) if p.is_file()]


def revision_of(files: list[dict[str, Any]]) -> str:
    """The 40-hex commit sha the /hf endpoint serves: derived from the content, so any change is a new revision."""
    lines = "".join(f"{f['sha256']}  {f['path']}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()[:40]


def write_archive(folder: Path, target: Path, prefix: str) -> tuple[str, int]:
    """A reproducible .tar.gz of `folder` under `prefix/` (sorted, zero mtimes and owners); (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(folder.rglob("*")):
                if not path.is_file():
                    continue
                info = tarfile.TarInfo(f"{prefix}/{path.relative_to(folder).as_posix()}")
                info.size, info.mode, info.mtime = path.stat().st_size, 0o644, 0
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha = hashlib.sha256()
    with open(target, "rb") as fh:
        while chunk := fh.read(_BLOCK):
            sha.update(chunk)
    return sha.hexdigest(), target.stat().st_size


def register(app: Flask, db: Session, run: TrainingRun, assembly: Assembly, folder: Path) -> Adapter:
    """Move a finished adapter folder into the registry, archive it and insert its row, all or nothing."""
    name = check_name(run.adapter_name)
    if db.exec(select(Adapter).where(Adapter.assembly_id == assembly.id, Adapter.name == name)).first():
        raise ValueError(f"an adapter {assembly.slug}/{name} already exists; choose another name")
    rel = f"adapters/{assembly.id}/{name}"
    dest = finetune_dir(app) / rel
    if dest.exists():  # files a killed process left without a row
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = dest.with_name(f"{name}.tar.gz")
    os.replace(folder, dest)
    try:
        files = manifest(dest)
        sha, size = write_archive(dest, archive, f"{assembly.slug}-{name}")
        adapter = Adapter(assembly_id=assembly.id, name=name, run_id=run.id, path=rel, revision=revision_of(files),
                          archive_sha256=sha, archive_size=size, is_private=run.is_private,
                          files_json=json.dumps(files))
        db.add(adapter)
        db.commit()
    except BaseException:
        db.rollback()
        shutil.rmtree(dest, ignore_errors=True)
        archive.unlink(missing_ok=True)
        raise
    return adapter


@on_worker_start
def sweep_at_start(app: Flask) -> None:
    with Session(app.extensions["assembly_engine"]) as db:
        for path in sweep_orphans(app, db):
            log.warning("removed %s: registry files without a row (a worker was killed while registering)", path)


def sweep_orphans(app: Flask, db: Session) -> list[str]:
    """Remove adapter folders and archives that no row names (left by a process killed mid-registration)."""
    root = finetune_dir(app) / "adapters"
    if not root.is_dir():
        return []
    known = {a.path for a in db.exec(select(Adapter))}
    removed = []
    for assembly_dir in root.iterdir():
        for entry in list(assembly_dir.iterdir()) if assembly_dir.is_dir() else []:
            rel = f"adapters/{assembly_dir.name}/{entry.name.removesuffix('.tar.gz')}"
            if rel not in known and not entry.name.startswith("."):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(str(entry))
    return removed


def can_see(adapter: Adapter, assembly: Assembly, viewer: Facilitator | None) -> bool:
    """Public adapters are for everyone; private ones only for the assembly's owner."""
    return not adapter.is_private or (viewer is not None and viewer.id == assembly.owner_id)


def visible_adapters(db: Session, assembly: Assembly | None, viewer: Facilitator | None) -> list[Adapter]:
    """Adapters the viewer may see (of one assembly, or all), newest first."""
    q = select(Adapter).order_by(Adapter.created_at.desc(), Adapter.id.desc())
    if assembly is not None:
        q = q.where(Adapter.assembly_id == assembly.id)
    owned = {a.id: a for a in db.exec(select(Assembly))} if assembly is None else {assembly.id: assembly}
    return [a for a in db.exec(q) if can_see(a, owned[a.assembly_id], viewer)]


def latest_adapter(db: Session, assembly: Assembly, viewer: Facilitator | None) -> Adapter | None:
    """The adapter SLUG/latest serves: the newest promoted one the viewer may see, i.e. whose newest
    eval run found it fit to ship (assembly/evals). Until the assembly has finished its first eval
    of an adapter, the newest one, so an assembly that never runs evals still has a `latest`.
    """
    from assembly.evals.runner import promoted_adapter_ids  # evals builds on this package

    adapters = visible_adapters(db, assembly, viewer)
    promoted = promoted_adapter_ids(db, assembly.id)
    if promoted is not None:
        adapters = [a for a in adapters if a.id in promoted]
    return adapters[0] if adapters else None


@dataclass
class Resolved:
    """An adapter found by its repository id, with its assembly."""

    assembly: Assembly
    adapter: Adapter


def find(db: Session, repo_id: str, viewer: Facilitator | None) -> Resolved | None:
    """SLUG/NAME (or SLUG/latest) -> the adapter, if it exists and the viewer may see it; else None."""
    slug, _, name = repo_id.partition("/")
    assembly = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if assembly is None or not name:
        return None
    if name.lower() == LATEST:
        adapter = latest_adapter(db, assembly, viewer)
    else:
        adapter = db.exec(select(Adapter).where(Adapter.assembly_id == assembly.id, Adapter.name == name)).first()
    if adapter is None or not can_see(adapter, assembly, viewer):
        return None
    return Resolved(assembly, adapter)


def files_of(adapter: Adapter) -> list[dict[str, Any]]:
    return json.loads(adapter.files_json)


def read_text(app: Flask, adapter: Adapter, name: str) -> str:
    """A text file of the adapter folder (e.g. the card README.md), or '' when absent."""
    path = adapter_dir(app, adapter) / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""

