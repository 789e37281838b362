"""The review page in headless Chromium: htmx edits in place, refusals shown in place, publish lands on v1.

Uses the one `page`/`browser` fixture of tests/browser/conftest.py (a second sync_playwright in the same
process failed while that fixture held its event loop: `pytest -q` without -n broke).
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session
from werkzeug.serving import make_server

from app import create_app
from assembly.auth import create_facilitator
from assembly.constitution.build import build_draft
from assembly.migrate import upgrade
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD
from tests.constitution_loader import planted_assembly

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The app over HTTP (CSRF on) with the planted assembly and a built draft; yields the base URL."""
    monkeypatch.setenv("CONSTITUTION_SIMILARITY", "char-ngram-tfidf")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
                      "SECRET_KEY": "browser", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False})
    upgrade(app.extensions["assembly_engine"])
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        fac = create_facilitator(db, FACILITATOR_EMAIL, FACILITATOR_PASSWORD)
        a, groups = planted_assembly(db, owner_id=fac.id)
        build_draft(db, a, groups, {"method": "planted"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_review_in_the_browser(served, page):
    from playwright.sync_api import expect

    page.set_default_timeout(10_000)
    page.goto(f"{served}/facilitate/planted/constitution")
    page.fill("#email", FACILITATOR_EMAIL)
    page.fill("#password", FACILITATOR_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#p0 blockquote")).to_have_text("Everyone should have access to clean drinking water.")
    page.evaluate("window.__noReload = true")

    page.fill("#w-p0", "Choose the response that treats water as a right.")
    page.locator("#p0 form").first.locator("button").click()
    expect(page.locator("#review-log")).to_contain_text(
        "Reworded the training form of “Everyone should have access to clean drinking water.”")
    expect(page.locator("#review-log")).not_to_contain_text("edit p0")
    expect(page.locator("#w-p0")).to_have_value("Choose the response that treats water as a right.")

    page.get_by_role("button", name="Build a new draft from the current votes").click()
    expect(page.locator("#draft .error")).to_contain_text("no clustering yet")
    assert page.evaluate("window.__noReload === true"), "htmx swapped in place, no page load"

    # Publishing cannot be undone: without the confirmation box ticked the browser does not send it.
    page.get_by_role("button", name="Publish as the next version").click()
    assert page.evaluate("window.__noReload === true") and "/facilitate/" in page.url
    page.check("#confirm-publish")
    page.get_by_role("button", name="Publish as the next version").click()
    page.wait_for_url("**/a/planted/constitution/v/1")
    expect(page.locator("h1")).to_contain_text("Planted town")
    # Citizens read the principle; the edited training-prompt wording stays in the exports.
    expect(page.locator("#p0 blockquote")).to_have_text("Everyone should have access to clean drinking water.")
    expect(page.locator("#p0")).not_to_contain_text("Choose the response")


def test_review_page_layout_and_restore(served, page):
    """Facilitator layout, Publish in reach after scrolling, long lists collapsed, an exclusion undone."""
    from playwright.sync_api import expect

    page.goto(f"{served}/facilitate/planted/constitution")
    page.fill("#email", FACILITATOR_EMAIL)
    page.fill("#password", FACILITATOR_PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("link", name="My assemblies")).to_be_visible()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    expect(page.locator(".fac-tabs a[aria-current=page]")).to_have_text("Constitution")
    expect(page.locator("#not-taken")).not_to_have_attribute("open", "")  # the long list starts folded
    expect(page.locator("#not-taken li").first).to_be_hidden()

    page.locator("#p6 details.more summary").click()
    page.fill("#x-p6", "Out of scope for a chatbot")
    page.locator("#p6").get_by_role("button", name="Exclude").click()
    expect(page.locator("#p6")).to_have_count(0)
    expect(page.locator("#review-log")).to_contain_text("Left out “Parks should be kept safe")

    page.mouse.wheel(0, 20_000)  # to the bottom of the page
    page.wait_for_function("window.scrollY > 0")
    publish = page.get_by_role("button", name="Publish as the next version")
    box = publish.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, box  # still on screen

    page.locator("#not-taken summary").click()
    page.locator("#x6").get_by_role("button", name="Bring back").click()
    expect(page.locator("#p6 blockquote")).to_have_text("Parks should be kept safe and clean for children.")
    expect(page.locator("#review-log")).to_contain_text("Brought back “Parks should be kept safe")
