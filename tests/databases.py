"""Fresh databases for tests: a SQLite file each, or PostgreSQL when TEST_DATABASE_URL is set.

Why a pool on PostgreSQL: creating a database (0.3 s) or migrating one (0.3 s) costs far
more than emptying one (a few ms), so each test worker (pytest-xdist runs several) keeps
its own few databases. One handed back at the newest migration has its rows deleted and
is handed out again still migrated (the test's `upgrade()` then has nothing to do);
anything else is wiped to an empty schema. Either way the connections earlier tests
left open in their engines' pools are ended first, so a forgotten transaction cannot block.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, pool, text
from sqlalchemy.exc import SQLAlchemyError

from assembly.migrate import alembic_config

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")

_END_OTHER_CONNECTIONS = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")


class SqliteDatabases:
    """A new SQLite file in its own temporary folder per request."""

    def __init__(self, make_dir) -> None:
        self._make_dir = make_dir

    def acquire(self, *, migrated: bool = True) -> str:
        return f"sqlite:///{Path(self._make_dir('db')) / 'test.db'}"

    def release(self, url: str) -> None:
        pass

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases named for this test worker on the server at `admin_url`, reused once released."""

    def __init__(self, admin_url: str, worker: str) -> None:
        self.admin = make_url(admin_url)
        if self.admin.get_backend_name() != "postgresql":
            raise ValueError(f"TEST_DATABASE_URL must be a postgresql+psycopg:// URL, got {admin_url!r}")
        self.prefix = "assembly_test_" + re.sub(r"\W", "_", worker)
        self._head = ScriptDirectory.from_config(alembic_config(admin_url)).get_current_head()
        self._free: list[str] = []
        self._all: list[str] = []

    def _url(self, name: str) -> str:
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def _execute(self, database: str, *statements: str) -> None:
        engine = create_engine(self._url(database), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def _clear_rows(self, name: str) -> bool:
        """Delete every row of a database at the newest migration and restart its ids; False if it is not there."""
        engine = create_engine(self._url(name), poolclass=pool.NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text(_END_OTHER_CONNECTIONS))
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
                if version != [self._head]:
                    return False
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # no foreign-key order needed
                tables = conn.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )).scalars().all()
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - names from pg_tables
                conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                                  "FROM pg_sequences WHERE schemaname = 'public'"))
            return True
        except SQLAlchemyError:  # no alembic_version table, a schema a test left half-built, not a superuser
            return False
        finally:
            engine.dispose()

    def acquire(self, *, migrated: bool = True) -> str:
        """The URL of a database only the caller uses until it is released.

        With `migrated=False` it has no tables; otherwise it may already be at the newest migration, with no rows.
        """
        if self._free:
            name = self._free.pop()
            if not (migrated and self._clear_rows(name)):
                self._execute(name, _END_OTHER_CONNECTIONS, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
        else:
            name = f"{self.prefix}_{len(self._all)}"
            # WITH (FORCE): a database an interrupted earlier run left behind, perhaps still connected.
            self._execute(self.admin.database or "postgres",
                          f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
            self._all.append(name)
        return self._url(name)

    def release(self, url: str) -> None:
        self._free.append(make_url(url).database)

    def close(self) -> None:
        """Drop this worker's databases (and any connection still open to them)."""
        self._execute(self.admin.database or "postgres",
                      *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self._all))
        self._all.clear()
        self._free.clear()


def make_databases(make_dir) -> SqliteDatabases | PostgresDatabases:
    """The pool for this process; `make_dir(name)` makes a temporary folder (pytest's tmp_path_factory.mktemp)."""
    if not TEST_DATABASE_URL:
        return SqliteDatabases(make_dir)
    return PostgresDatabases(TEST_DATABASE_URL, os.environ.get("PYTEST_XDIST_WORKER", "main"))
