"""Shared fixtures: an app on a fresh migrated SQLite file, its client, a facilitator, assemblies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session

from app import create_app
from assembly.auth import create_facilitator
from assembly.migrate import upgrade
from assembly.models import Assembly

ROOT = Path(__file__).resolve().parent.parent
POLIS_OPENDATA = Path(os.environ.get("POLIS_OPENDATA", ROOT.parent / "shared" / "polis-opendata"))
CONVERSATIONS = sorted(p.name for p in POLIS_OPENDATA.iterdir() if p.is_dir()) if POLIS_OPENDATA.is_dir() else []

FACILITATOR_EMAIL = "facilitator@example.org"
FACILITATOR_PASSWORD = "correct horse battery"


def need_shared() -> Path:
    """Skip the calling test, with the reason, when ../shared/polis-opendata is absent (a user's clone)."""
    if not POLIS_OPENDATA.is_dir():
        pytest.skip(f"real Polis exports not found at {POLIS_OPENDATA} (set POLIS_OPENDATA or clone beside shared/)")
    return POLIS_OPENDATA


@pytest.fixture
def app(tmp_path):
    """App on a migrated SQLite file, CSRF and rate limits off (tests of those turn them on)."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CLUSTERING_AUTO": False,
    })
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"]) as db:
        create_facilitator(db, FACILITATOR_EMAIL, FACILITATOR_PASSWORD, "Test Facilitator")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session on the app's database for arranging and checking state."""
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as session:
        yield session


class Auth:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, email: str = FACILITATOR_EMAIL, password: str = FACILITATOR_PASSWORD):
        return self.client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def assembly(db) -> Assembly:
    """An open assembly with three accepted seed statements (tids 0, 1, 2)."""
    from assembly.participation import add_statement

    a = Assembly(slug="town", title="Our town", question="What should the town do?", language="en")
    db.add(a)
    db.commit()
    for text in ("Build more bike lanes.", "Keep the library open on Sundays.", "Plant trees on every street."):
        add_statement(db, a, text, is_seed=True)
    return a
