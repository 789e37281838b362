"""`flask --app app demo`: load the vTaiwan UberX and Taigi demo assemblies and a demo facilitator.

Idempotent: what already exists is left alone, so `make run` can call it on every start.
The assembly goes through `polis.write.import_polis`, the same code as `flask polis import`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from assembly.auth import create_facilitator
from assembly.db import get_session
from assembly.models import Assembly, Facilitator
from assembly.polis.write import import_polis
from assembly.results.runs import latest_run, result_of, run_clustering

DEMO_DIR = Path(__file__).parent / "demo_data" / "vtaiwan-uberx"
DEMO_SLUG = "vtaiwan-uberx"
DEMO_LANGUAGE = "zh-Hant-TW"
TAIGI_DIR = Path(__file__).parent / "demo_data" / "taigi-suisian-market"  # written for the project, votes synthetic
TAIGI_SLUG = "taigi-suisian-market"
TAIGI_LANGUAGE = "nan-Hant-TW"
DEMO_EMAIL = "demo@example.org"
PASSWORD_FILE = "demo-facilitator.txt"  # noqa: S105 - a file name, not a password


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, without a moment of wider permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed


def load_demo(db: Session, instance_path: Path | str) -> tuple[Assembly | None, str | None]:
    """Create what is missing: (the new assembly or None, the new facilitator's password or None)."""
    password = None
    facilitator = db.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL)).first()
    if facilitator is None:
        password = secrets.token_urlsafe(15)
        facilitator = create_facilitator(db, DEMO_EMAIL, password, "Demo facilitator")
        _write_private(Path(instance_path) / PASSWORD_FILE, f"{DEMO_EMAIL}\n{password}\n")
    if db.exec(select(Assembly.id).where(Assembly.slug == DEMO_SLUG)).first() is not None:
        return None, password
    assembly = import_polis(db, DEMO_DIR, DEMO_SLUG, language=DEMO_LANGUAGE, owner_id=facilitator.id)
    return assembly, password


def load_taigi_demo(db: Session) -> Assembly | None:
    """The Taigi demo assembly (statements written for the project, synthetic votes), if absent."""
    if db.exec(select(Assembly.id).where(Assembly.slug == TAIGI_SLUG)).first() is not None:
        return None
    owner = db.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL)).one()
    return import_polis(db, TAIGI_DIR, TAIGI_SLUG, language=TAIGI_LANGUAGE, owner_id=owner.id)


@click.command("demo")
@with_appcontext
def demo_cmd() -> None:
    """Load the vTaiwan UberX (CC BY 4.0) and Taigi (synthetic votes) demo assemblies and a demo facilitator."""
    assembly, password = load_demo(get_session(), current_app.instance_path)
    if password:
        path = Path(current_app.instance_path) / PASSWORD_FILE
        click.echo(f"created facilitator {DEMO_EMAIL} with password {password} (also in {path})")
    else:
        path = Path(current_app.instance_path) / PASSWORD_FILE
        where = f"its password is in {path}" if path.exists() else "its password was set before"
        click.echo(f"facilitator {DEMO_EMAIL} already exists; {where}")
    if assembly is not None:
        click.echo(f"loaded demo assembly {DEMO_SLUG!r}: vTaiwan UberX, CC BY 4.0, The Computational Democracy Project")
    else:
        click.echo(f"demo assembly {DEMO_SLUG!r} already exists")
    if load_taigi_demo(get_session()) is not None:
        click.echo(f"loaded demo assembly {TAIGI_SLUG!r}: Taigi, written for the project, SYNTHETIC votes")
    db = get_session()
    for slug in (DEMO_SLUG, TAIGI_SLUG):
        demo = db.exec(select(Assembly).where(Assembly.slug == slug)).one()
        if latest_run(db, demo.id) is None:
            run = run_clustering(db, demo, device=current_app.config["CLUSTERING_DEVICE"])
            sizes = result_of(run)["group_sizes"]
            click.echo(f"clustered {slug}: {len(sizes)} opinion groups of {sizes} participants in {run.seconds:.2f} s")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cmd)
