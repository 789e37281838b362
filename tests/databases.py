"""Fresh databases for tests: a SQLite file each, or PostgreSQL when TEST_DATABASE_URL is set.

Why a pool on PostgreSQL: creating a database costs far more than emptying one, so each
test worker (pytest-xdist runs several) keeps its own few databases and wipes one when a
test asks for it. Wiping ends the connections earlier tests left open in their engines'
pools first, so a forgotten transaction cannot block it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import create_engine, make_url, pool, text

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


class SqliteDatabases:
    """A new SQLite file in its own temporary folder per request."""

    def __init__(self, make_dir) -> None:
        self._make_dir = make_dir

    def acquire(self) -> str:
        return f"sqlite:///{Path(self._make_dir('db')) / 'test.db'}"

    def release(self, url: str) -> None:
        pass

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases named for this test worker on the server at `admin_url`, reused: each handed out empty."""

    def __init__(self, admin_url: str, worker: str) -> None:
        self.admin = make_url(admin_url)
        if self.admin.get_backend_name() != "postgresql":
            raise ValueError(f"TEST_DATABASE_URL must be a postgresql+psycopg:// URL, got {admin_url!r}")
        self.prefix = "assembly_test_" + re.sub(r"\W", "_", worker)
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

    def acquire(self) -> str:
        """The URL of an empty database only the caller uses until it is released."""
        if self._free:
            name = self._free.pop()
            self._execute(
                name,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                "DROP SCHEMA public CASCADE",
                "CREATE SCHEMA public",
            )
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
