"""CLI commands on a database that was never migrated (or is behind) answer in one line what to run.

`flask --app app polis import DIR` on a new database printed a raw SQLAlchemy traceback
(`no such table: assembly`); so did every other command (issue 11). assembly/schema_check.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from app import create_app
from assembly.migrate import upgrade
from assembly.schema_check import code_heads
from tests.test_concurrency import ROOT
from tests.test_polis_cli import CLASSIC

COMMANDS = [
    ["polis", "import", str(CLASSIC), "--slug", "town"],
    ["polis", "export", "town", "never-written"],
    ["cluster", "town"],
    ["finetune", "list"],
    ["evals", "run", "town"],
    ["jobs", "list"],
    ["constitution", "build", "town"],
    ["facilitator", "token", "nobody@example.org"],
]
NEVER_MIGRATED = "the database has no tables yet: run `flask --app app db upgrade`"


def fresh_app(database_url: str):
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "fresh",
                       "CLUSTERING_AUTO": False})


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_a_command_on_a_never_migrated_database_says_to_upgrade(empty_database_url, args):
    app = fresh_app(empty_database_url)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"Error: {NEVER_MIGRATED}"
    assert result.exception is None or isinstance(result.exception, SystemExit)
    engine = app.extensions["assembly_engine"]
    assert inspect(engine).get_table_names() == [], "the refused command wrote something"


def test_a_database_behind_the_code_names_both_revisions(empty_database_url):
    app = fresh_app(empty_database_url)
    upgrade(app.extensions["assembly_engine"], "0007_adapters")
    result = app.test_cli_runner().invoke(args=["finetune", "list"])
    assert result.exit_code == 1
    (head,) = code_heads()
    assert f"at revision 0007_adapters, this code needs {head}: run `flask --app app db upgrade`" in result.output


def test_after_the_upgrade_the_same_commands_run(empty_database_url):
    app = fresh_app(empty_database_url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["finetune", "list"])
    assert result.exit_code == 0, result.output
    assert "db upgrade" not in result.output
    assert runner.invoke(args=["polis", "import", str(CLASSIC), "--slug", "town"]).exit_code == 0


def test_commands_without_a_database_are_not_refused(empty_database_url):
    app = fresh_app(empty_database_url)
    result = app.test_cli_runner().invoke(args=["evals", "langid"], input="Lí hó\n")
    assert result.exit_code == 0, result.output


def test_the_real_command_line_prints_one_line_and_no_traceback(empty_database_url):
    env = {**os.environ, "DATABASE_URL": empty_database_url, "SECRET_KEY": "fresh"}
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "polis", "import", str(CLASSIC)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"Error: {NEVER_MIGRATED}"]
