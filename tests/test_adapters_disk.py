"""A full disk during training fails the run with a clear message and registers nothing.

The run's folder is a real 256 KiB tmpfs, so the trainer's first checkpoint meets ENOSPC as it
would on a full disk. Needs root (mount); skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assembly.adapters import datasets, runs
from assembly.adapters.models import Adapter
from assembly.models import Assembly
from tests.adapters_support import TINY, published_assembly
from tests.conftest import make_app

pytestmark = pytest.mark.slow


def test_full_disk_fails_the_run_and_leaves_no_adapter(database_url, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    app = make_app(database_url, FINETUNE_DIR=str(tmp_path / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "planted")).one()
        ds = datasets.dataset_for(app, db, a, datasets.published_version(db, a, None))
        runs.resolve_base_model(app, TINY)  # the base model is in place; only the run's folder is full
        run = runs.create(app, db, a, ds, base_model=TINY, steps=4, name="full", extra={"save_steps": 1})
        folder = Path(app.config["FINETUNE_DIR"]) / "runs" / str(run.id)
        folder.mkdir(parents=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
        try:
            runs.enqueue_run(db, run)
            db.refresh(run)
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        assert run.status == "failed"
        assert "disk" in run.error.lower() or "space" in run.error.lower(), run.error
        assert db.exec(select(Adapter)).all() == []
        assert not (Path(app.config["FINETUNE_DIR"]) / "adapters").exists()
    app.extensions["assembly_engine"].dispose()
