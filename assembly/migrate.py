"""Schema migrations through Alembic: `flask --app app db upgrade|revision|current`."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision` (the newest by default)."""
    cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@click.group("db", cls=AppGroup)
def db_cli() -> None:
    """Database schema migrations."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_cmd(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade(current_app.extensions["assembly_engine"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the schema change is for.")
def revision_cmd(message: str) -> None:
    """Autogenerate a migration from the difference between models and database."""
    cfg = alembic_config(current_app.config["DATABASE_URL"])
    command.revision(cfg, message=message, autogenerate=True)


@db_cli.command("current")
def current_cmd() -> None:
    """Show the database's revision."""
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
