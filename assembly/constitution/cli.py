"""`flask --app app constitution build|publish|export SLUG`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from assembly.assemblies import get_assembly
from assembly.constitution.build import build_draft, current_draft
from assembly.constitution.export import to_json, to_markdown
from assembly.constitution.groups import NoGroupsError, current_groups, groups_from_polis_export
from assembly.constitution.versions import publish, published
from assembly.db import get_session
from assembly.domain_errors import AssemblyError

constitution_cli = AppGroup("constitution", help="Build, publish and export an assembly's constitution.")


def _assembly(slug: str):
    try:
        return get_assembly(get_session(), slug)
    except AssemblyError as exc:
        raise click.ClickException(exc.message) from exc


@constitution_cli.command("build")
@click.argument("slug")
@click.option("--groups-from", nargs=2, type=(click.Choice(["polis-export"]), click.Path(file_okay=False)),
              default=None, help="polis-export DIR: use the group-id column of DIR/participants-votes.csv.")
@click.option("--fresh", is_flag=True,
              help="Start clean: do not carry the previous published version's review decisions.")
def build_cmd(slug: str, groups_from: tuple[str, str] | None, fresh: bool) -> None:
    """Build a new draft from the current votes and opinion groups, and print a summary.

    The previous published version's exclusions, merges, splits, wordings and order are carried
    into the new draft, matched by statement id, unless --fresh.
    """
    db = get_session()
    a = _assembly(slug)
    try:
        if groups_from:
            groups, info = groups_from_polis_export(db, a, groups_from[1])
        else:
            groups, info = current_groups(db, a)
        version = build_draft(db, a, groups, info, similarity=current_app.config["CONSTITUTION_SIMILARITY"],
                              fresh=fresh)
    except (NoGroupsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    import json

    doc = json.loads(version.document)
    reasons: dict[str, int] = {}
    for e in doc["excluded"]:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    click.echo(f"draft built for {slug}: {len(doc['principles'])} principles in {len(doc['themes'])} themes; "
               f"excluded {sum(reasons.values())} ({', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))}); "
               f"GIC threshold {doc['process']['consensus']['gic_threshold']:.3f}")
    carried = next((r for r in doc["review"] if r["action"] == "carry"), None)
    if carried:
        click.echo(f"kept from version {carried['from']}: {len(carried['excluded'])} exclusion(s), "
                   f"{len(carried['merged'])} merge(s), {len(carried['split'])} split(s), "
                   f"{len(carried['reworded'])} wording edit(s){', and the order' if carried['order'] else ''}")


@constitution_cli.command("publish")
@click.argument("slug")
def publish_cmd(slug: str) -> None:
    """Publish the current draft as the next numbered version."""
    db = get_session()
    draft = current_draft(db, _assembly(slug))
    if draft is None:
        raise click.ClickException(f"no draft for {slug}: run `flask constitution build {slug}` first")
    try:
        v = publish(db, draft)
    except AssemblyError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"published version {v.number} of {slug}: sha256 {v.content_hash}")


@constitution_cli.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
@click.option("--version", "number", type=int, default=None, help="Published version number (default: newest).")
@click.option("--draft", is_flag=True, help="Export the current draft instead of a published version.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
def export_cmd(slug: str, fmt: str, number: int | None, draft: bool, output) -> None:
    """Print a published version (or the draft) as JSON or Markdown."""
    db = get_session()
    a = _assembly(slug)
    if draft and number is not None:
        raise click.ClickException("use either --draft or --version, not both")
    version = current_draft(db, a) if draft else published(db, a.id, number)
    if version is None:
        what = "draft" if draft else (f"version {number}" if number is not None else "published version")
        raise click.ClickException(f"no {what} of the constitution of {slug}")
    output.write(to_json(version) if fmt == "json" else to_markdown(version))
