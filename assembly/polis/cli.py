"""`flask --app app polis import|export` and the facilitator's export download: Polis export folders in and out."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import click
from flask import Blueprint, Flask, current_app, send_file
from flask.cli import AppGroup
from sqlmodel import select
from tqdm import tqdm

from assembly.assemblies import load_assembly
from assembly.auth import login_required
from assembly.db import get_session
from assembly.models import Assembly, Facilitator
from assembly.polis.export import export_files, write_folder
from assembly.polis.read import PolisImportError, read_export
from assembly.polis.write import check_new_slug, slug_for, write_export
from assembly.results.disclosure import shown_groups_by_pid
from assembly.results.runs import current_result, result_of, run_clustering

bp = Blueprint("polis_export", __name__, url_prefix="/facilitate")


@bp.get("/<slug>/export.zip")
@login_required
def export_zip(slug: str):
    """The assembly as a Polis export (the five CSV files in a folder named after the slug), for its owner only."""
    return _export_zip(slug, spreadsheet_safe=False)


@bp.get("/<slug>/export-spreadsheet.zip")
@login_required
def export_spreadsheet_zip(slug: str):
    """The same export with formula-like cells defused, for opening in a spreadsheet (not for re-import)."""
    return _export_zip(slug, spreadsheet_safe=True)


def _export_zip(slug: str, *, spreadsheet_safe: bool):
    db = get_session()
    assembly = load_assembly(slug, check_owner=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        groups = shown_groups_by_pid(current_result(db, assembly.id))  # none while a group is too small
        for name, text in export_files(db, assembly, groups, spreadsheet_safe=spreadsheet_safe).items():
            zf.writestr(f"{slug}/{name}", text)
    buf.seek(0)
    response = send_file(buf, mimetype="application/zip", as_attachment=True,
                         download_name=f"{slug}-polis-export{'-spreadsheet' if spreadsheet_safe else ''}.zip")
    response.headers["Cache-Control"] = "no-store"  # votes change; never serve a stale copy
    return response


@click.group("polis", cls=AppGroup)  # AppGroup: its commands run inside the app context
def polis_cli() -> None:
    """Import and export Polis export folders (comments.csv, votes.csv, ...)."""


@polis_cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--slug", help="Slug of the new assembly; default: from the folder name.")
@click.option("--language", default="en", show_default=True, help="Language tag of the assembly and its statements.")
@click.option("--owner", "owner_email", help="E-mail of the facilitator who will own the assembly.")
@click.option("--replay/--no-replay", default=True, show_default=True,
              help="With votes.csv (time-stamped votes), cluster by replaying the vote history as Polis did.")
def import_cmd(directory: Path, slug: str | None, language: str, owner_email: str | None, replay: bool) -> None:
    """Import the Polis export in DIRECTORY as a new assembly; a malformed file imports nothing."""
    db = get_session()
    slug = slug or slug_for(directory.resolve().name)
    owner_id = None
    if owner_email:
        owner = db.exec(select(Facilitator).where(Facilitator.email == owner_email.strip().lower())).first()
        if owner is None:
            raise click.ClickException(f"no facilitator {owner_email}")
        owner_id = owner.id
    try:
        check_new_slug(db, slug)
        export = read_export(directory)
        with tqdm(total=len(export.votes), unit="vote", desc=f"importing {slug}", disable=None) as bar:
            assembly = write_export(db, export, slug, language=language, owner_id=owner_id, progress=bar.update)
    except PolisImportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"imported {len(export.comments)} statements, {len(export.participants)} participants and "
        f"{len(export.votes)} vote events (from {export.votes_from}) as assembly {assembly.slug!r}"
    )
    if replay and export.votes_from.lower() == "votes.csv" and export.votes:
        run = run_clustering(db, assembly, device=current_app.config["CLUSTERING_DEVICE"], history=True)
        replayed = result_of(run)["method"]["replay"]
        click.echo(f"replayed the vote history in {replayed['updates']} updates ({run.seconds:.1f} s): "
                   f"{len(result_of(run)['group_sizes'])} opinion groups of {result_of(run)['group_sizes']}")


@polis_cli.command("export")
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace export files already in DIRECTORY.")
def export_cmd(slug: str, directory: Path, overwrite: bool) -> None:
    """Write assembly SLUG as a Polis export into DIRECTORY (created if missing)."""
    db = get_session()
    assembly = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if assembly is None:
        raise click.ClickException(f"no assembly {slug!r}")
    try:
        groups = shown_groups_by_pid(current_result(db, assembly.id))  # none while a group is too small
        paths = write_folder(export_files(db, assembly, groups), directory, overwrite=overwrite)
    except OSError as exc:  # FileExistsError included
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {', '.join(p.name for p in paths)} to {directory}")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(polis_cli)
