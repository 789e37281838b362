"""Shared fixtures: an app on a fresh migrated database, its client, a facilitator, assemblies.

The database is a SQLite file, or a PostgreSQL database when TEST_DATABASE_URL is set
(scripts/test_postgres.sh does that); see tests/databases.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session

from app import create_app
from assembly.auth import create_facilitator
from assembly.migrate import upgrade
from assembly.models import Assembly
from tests.databases import make_databases

ROOT = Path(__file__).resolve().parent.parent
POLIS_OPENDATA = Path(os.environ.get("POLIS_OPENDATA", ROOT.parent / "shared" / "polis-opendata"))
CONVERSATIONS = sorted(p.name for p in POLIS_OPENDATA.iterdir() if p.is_dir()) if POLIS_OPENDATA.is_dir() else []

# No background reclustering unless a test asks for it (test_clustering_runs does): a debounced run
# that fires after its test ended would work on the database the next test is given.
os.environ["CLUSTERING_AUTO"] = "0"
# No UMAP map in ordinary tests: numba's first compile costs ~40 s. The marked slow tests that
# check it (tests/test_results_umap.py) turn it on through the app's config.
os.environ["CLUSTERING_UMAP_MAX"] = "0"
# Queued jobs (training, generation) run where they are enqueued unless a test starts a real worker
# (tests/test_adapters_worker.py): no test leaves a job in a queue file another test would read.
os.environ["HUEY_IMMEDIATE"] = "1"

FACILITATOR_EMAIL = "facilitator@example.org"
FACILITATOR_PASSWORD = "correct horse battery"


def need_shared() -> Path:
    """Skip the calling test, with the reason, when ../shared/polis-opendata is absent (a user's clone)."""
    if not POLIS_OPENDATA.is_dir():
        pytest.skip(f"real Polis exports not found at {POLIS_OPENDATA} (set POLIS_OPENDATA or clone beside shared/)")
    return POLIS_OPENDATA


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """This test process's source of fresh databases (SQLite files, or PostgreSQL databases)."""
    pool = make_databases(tmp_path_factory.mktemp)
    yield pool
    pool.close()


@pytest.fixture
def database_url(databases) -> str:
    """A database of the test's own, for an app: migrate it with `upgrade()` (it may already be at head, empty)."""
    url = databases.acquire(migrated=True)
    yield url
    databases.release(url)


@pytest.fixture
def empty_database_url(databases) -> str:
    """A database of the test's own with no tables at all (for migration tests)."""
    url = databases.acquire(migrated=False)
    yield url
    databases.release(url)


def make_app(database_url: str, **config):
    """App on a migrated database with a facilitator; CSRF and rate limits off unless `config` turns them on."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CLUSTERING_AUTO": False,
        **config,
    })
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"]) as db:
        create_facilitator(db, FACILITATOR_EMAIL, FACILITATOR_PASSWORD, "Test Facilitator")
    return app


def add_town(db: Session) -> Assembly:
    """An open assembly "town" with three accepted seed statements (tids 0, 1, 2)."""
    from assembly.voting.rules import add_statement

    a = Assembly(slug="town", title="Our town", question="What should the town do?", language="en")
    db.add(a)
    db.commit()
    for text in ("Build more bike lanes.", "Keep the library open on Sundays.", "Plant trees on every street."):
        add_statement(db, a, text, is_seed=True)
    return a


def make_town_app(database_url: str, **config):
    """`make_app` with the assembly "town", for tests that need other config than the fixtures' (CSRF, limits)."""
    app = make_app(database_url, **config)
    with Session(app.extensions["assembly_engine"]) as db:
        add_town(db)
    return app


@pytest.fixture
def app(database_url):
    """App on a migrated database of its own, CSRF and rate limits off (tests of those turn them on)."""
    app = make_app(database_url)
    yield app
    app.extensions["assembly_engine"].dispose()  # its pooled connections would outlive the database


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


def log_in(client, facilitator_id: int) -> str:
    """Log `client` in as a facilitator without the password round trip; returns the session key.

    Every test that needs a logged-in facilitator goes through here, so how a login is stored (a
    server-side FacilitatorSession row, its random key in the signed cookie) is written down once.
    """
    from assembly.auth import SESSION_KEY, start_session

    app = client.application
    with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
        key = start_session(db, facilitator_id)
    with client.session_transaction() as session:
        session[SESSION_KEY] = key
    return key


def invite_query(app, slug: str, xid: str) -> str:
    """`xid=...&invite=...` of `xid`'s personal invite link in assembly `slug` (it must be on the allow-list)."""
    from urllib.parse import quote, urlencode

    from sqlmodel import select

    from assembly.invitations import key_for
    from assembly.models import XidAllow

    with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == slug)).one()
        row = db.exec(select(XidAllow).where(XidAllow.assembly_id == a.id, XidAllow.xid == xid)).one()
        return urlencode({"xid": xid, "invite": key_for(row)}, quote_via=quote)


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
    return add_town(db)
