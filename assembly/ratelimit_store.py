"""A `limits` storage in an SQLite file, so every worker process of one server counts in one place.

Why: flask-limiter's `memory://` storage counts per process, so with 2 granian workers a
60/min limit let 120 votes through; Redis would fix that but is an extra server the embedded
default must not need. `limits` has no SQLite storage, so this is one: a table of fixed-window
counters in WAL mode, each hit a single atomic upsert (`INSERT ... ON CONFLICT ... RETURNING`),
which SQLite serialises across processes. It supports flask-limiter's default fixed-window
strategy. Deployments with several app servers use `redis://` (see docs/security.md).

Registered with `limits` as the `sqlite://` scheme on import: `sqlite:////absolute/path.db`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

_SCHEMA = "CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
# One statement: a fresh or expired window restarts at `amount`, a live one adds to it.
_INCR = (
    "INSERT INTO hits (key, count, expires) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN hits.expires <= :now THEN excluded.count ELSE hits.count + excluded.count END, "
    "expires = CASE WHEN hits.expires <= :now THEN excluded.expires ELSE hits.expires END "
    "RETURNING count"
)
_SWEEP_ONE_IN = 1000  # about one hit in this many also deletes expired windows, so the file stays small


class SQLiteStorage(Storage):
    """Fixed-window rate-limit counters shared through one SQLite file."""

    STORAGE_SCHEME = ["sqlite"]  # noqa: RUF012 - the base class declares it a list

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # As in SQLAlchemy: sqlite:///relative/path, sqlite:////absolute/path.
        path = (uri or "").removeprefix("sqlite:///")
        if not path or path == (uri or "") or ":memory:" in path:
            raise ValueError("the sqlite rate-limit storage needs a file: sqlite:////absolute/path.db")
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        """One connection per thread and process (a forked worker must not share its parent's)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        if random.randrange(_SWEEP_ONE_IN) == 0:
            conn.execute("DELETE FROM hits WHERE expires <= ?", (now,))
        row = conn.execute(_INCR, {"key": key, "amount": amount, "expires": now + expiry, "now": now}).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        query = "SELECT count FROM hits WHERE key = ? AND expires > ?"
        row = self._conn().execute(query, (key, time.time())).fetchone()
        return 0 if row is None else int(row[0])

    def get_expiry(self, key: str) -> float:
        query = "SELECT expires FROM hits WHERE key = ? AND expires > ?"
        row = self._conn().execute(query, (key, time.time())).fetchone()
        return time.time() if row is None else float(row[0])

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM hits WHERE key = ?", (key,))


def default_uri(database_url: str, instance_path: str) -> str:
    """Beside a SQLite database (`assembly.db` -> `assembly.db-ratelimits`), else in the instance folder."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return f"sqlite:///{database_url.removeprefix('sqlite:///')}-ratelimits"
    return f"sqlite:///{Path(instance_path).resolve() / 'ratelimits.db'}"
