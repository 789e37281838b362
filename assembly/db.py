"""Engine and per-request session.

SQLite gets WAL (readers never block the writer), a busy timeout (concurrent
writers queue instead of failing) and foreign keys. The request's session lives
on `flask.g` and is closed at teardown, as in Flask's tutorial.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def make_engine(url: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 10000) -> Engine:
    """Create an engine; SQLite connections get the pragmas that make votes safe under load."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def default_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'assembly.db'}"


def get_engine() -> Engine:
    return current_app.extensions["assembly_engine"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Create the engine from config and close the session after each request."""
    url = app.config["DATABASE_URL"] or default_sqlite_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    app.extensions["assembly_engine"] = make_engine(
        url,
        synchronous=app.config["SQLITE_SYNCHRONOUS"].upper(),
        busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"],
    )
    app.teardown_appcontext(_close_session)
