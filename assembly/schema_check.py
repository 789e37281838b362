"""Refuse CLI commands on a database that is not at the newest migration, in one line.

Why: on a database that was never migrated, `flask --app app polis import DIR` (and every other
command) died with a raw SQLAlchemy traceback (`no such table: assembly`). The web server is
started by `make run` after `db upgrade`, but a command is often the first thing run on a new
machine. Migrating silently from any command would also migrate a production database that an
operator meant to upgrade deliberately (and back up first), so the command says what to run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy.engine import Engine

from assembly.migrate import alembic_config

UPGRADE = "run `flask --app app db upgrade`"

# Commands that never touch the database: the migrations themselves, the OpenAPI document,
# the rate limiter's own storage, and language detection on stdin.
NO_DATABASE = {("db",), ("openapi",), ("limiter",), ("evals", "langid")}


def code_heads() -> set[str]:
    """The revisions this code's migrations end at (one, unless two branches are unmerged)."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """Why the database at `engine` cannot serve this code yet, as one line; None when it is current."""
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    wanted = code_heads()
    if current == wanted:
        return None
    if not current:
        return f"the database has no tables yet: {UPGRADE}"
    if current - wanted - _known_revisions():
        return (f"the database is at revision {', '.join(sorted(current))}, which this code does not know "
                "(is the code older than the database?)")
    return f"the database is at revision {', '.join(sorted(current))}, this code needs {', '.join(sorted(wanted))}: " \
           f"{UPGRADE}"


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def _guarded(callback: Callable) -> Callable:
    # The app comes from the command line's ScriptInfo, not a closure: commands are module-level
    # objects shared by every app the factory builds (tests build many).
    @functools.wraps(callback)
    def run(*args, **kwargs):
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        problem = schema_problem(app.extensions["assembly_engine"])
        if problem:
            raise click.ClickException(problem)
        return callback(*args, **kwargs)

    run.schema_checked = True
    return run


def _guard(command: click.Command, path: tuple[str, ...]) -> None:
    if path in NO_DATABASE:
        return
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _guard(sub, (*path, name))
    elif command.callback is not None and not getattr(command.callback, "schema_checked", False):
        command.callback = _guarded(command.callback)


def init_app(app: Flask) -> None:
    """Check the schema before every CLI command registered so far; call after all other modules."""
    for name, command in app.cli.commands.items():
        _guard(command, (name,))
