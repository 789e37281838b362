"""Browser fixtures: the real app served over HTTP, driven by Debian's headless Chromium (Playwright).

`live_server` serves a fresh migrated SQLite app (CSRF on, as in production; rate limits off)
from a werkzeug server thread; `page` is a Playwright page in a fresh browser context
(its own cookies, so its own participant). Without Chromium the tests skip and say why.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session
from werkzeug.serving import make_server

from app import create_app
from assembly.auth import create_facilitator
from assembly.migrate import upgrade
from assembly.models import Assembly
from assembly.voting.rules import add_statement
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SEED_STATEMENTS = (
    "The city should build protected bike lanes on main roads.",
    "Public libraries should stay open on Sundays.",
    "Every new building should have solar panels.",
    "Night markets should close by midnight.",
)


@dataclass
class LiveServer:
    url: str
    app: Flask
    slug: str = "town"


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    """The app on a free port of 127.0.0.1 with one facilitator and an assembly of 4 seed statements."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.db'}",
        "SECRET_KEY": "browser-test-secret",
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
    })
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"]) as db:
        owner = create_facilitator(db, FACILITATOR_EMAIL, FACILITATOR_PASSWORD, "Test Facilitator")
        assembly = Assembly(slug="town", title="Our town", question="What should our town do next?",
                            description="Vote on each statement. There are no wrong answers.", owner_id=owner.id)
        db.add(assembly)
        db.commit()
        for text in SEED_STATEMENTS:
            add_statement(db, assembly, text, is_seed=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; skipped with the reason when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context (own cookies), desktop-sized; tests resize it for phones."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
