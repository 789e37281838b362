"""A participant in a real browser: votes without page reloads, writes a statement, on a phone-sized screen."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assembly.models import Assembly, Statement, Vote

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def progress(page) -> str:
    return page.locator("#progress .progress-count").inner_text()


def count_navigations(page) -> list[str]:
    """Record every navigation of the main frame after this call (a full reload is one)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen


def test_votes_without_reloading_by_mouse_then_keyboard(live_server, page):
    page.goto(f"{live_server.url}/a/town")
    assert progress(page) == "0 of 4"
    address = page.url
    navigations = count_navigations(page)
    page.evaluate("window.__sameDocument = true")  # a reload would wipe this

    shown = []
    for n, button in enumerate(["Agree", "Disagree", "Pass / Unsure"], start=1):
        shown.append(page.locator("#statement").inner_text())
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator("#progress .progress-count")).to_have_text(f"{n} of 4")
    assert page.url == address and navigations == []
    assert page.evaluate("window.__sameDocument") is True
    assert len(set(shown)) == 3  # a new statement each time
    # Focus moved to the new statement, so keyboard users go on from there.
    expect(page.locator("#statement")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is the first vote button, with a visible focus ring
    agree = page.get_by_role("button", name="Agree", exact=True)
    expect(agree).to_be_focused()
    assert agree.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("#progress .progress-count")).to_have_text("4 of 4")
    expect(page.get_by_role("heading", name="You have seen every statement")).to_be_visible()

    with Session(live_server.app.extensions["assembly_engine"]) as db:
        values = sorted(v.value for v in db.exec(select(Vote)))
    assert values == [-1, 0, 1, 1]


def test_keyboard_shortcut_and_statement_with_character_count(live_server, page):
    page.goto(f"{live_server.url}/a/town")
    navigations = count_navigations(page)
    page.keyboard.press("a")  # optional shortcut: agree
    expect(page.locator("#progress .progress-count")).to_have_text("1 of 4")

    box = page.get_by_label("Your statement")
    box.fill("Bus stops need shelters from the rain")
    box.press("a")  # typing "a" in the field is text, not a vote
    box.press("Backspace")
    box.press(".")
    assert progress(page) == "1 of 4"
    assert page.locator("#statement-count").inner_text() == "Characters left: 242"
    page.get_by_role("button", name="Submit statement").click()
    status = page.locator("#write .success")
    status.wait_for()
    assert "Your statement was added" in status.inner_text()
    assert progress(page) == "2 of 5"  # the author's own agree vote counts
    assert page.get_by_label("Your statement").input_value() == ""

    # A duplicate is refused next to the field, and the text stays for editing.
    page.get_by_label("Your statement").fill("bus stops need shelters from the rain")
    page.get_by_role("button", name="Submit statement").click()
    alert = page.locator("#statement-error[role=alert]")
    alert.wait_for()
    assert "already in the assembly" in alert.inner_text()
    assert page.get_by_label("Your statement").input_value() == "bus stops need shelters from the rain"
    assert navigations == []

    with Session(live_server.app.extensions["assembly_engine"]) as db:
        st = db.exec(select(Statement).where(Statement.text == "Bus stops need shelters from the rain.")).one()
        assert db.exec(select(Vote).where(Vote.statement_id == st.id)).one().value == 1


def test_phone_width_buttons_visible_without_horizontal_scroll(live_server, page, tmp_path):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/a/town")
    for name in ("Agree", "Disagree", "Pass / Unsure"):
        button = page.get_by_role("button", name=name, exact=True)
        assert button.is_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
        assert box["height"] >= 44 and box["width"] >= 44  # comfortable tap targets
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), f"{name!r} does not fit its button"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # For a person to look at: SCREENSHOT_DIR=/tmp keeps it as /tmp/participant.png.
    page.screenshot(path=Path(os.environ.get("SCREENSHOT_DIR", tmp_path)) / "participant.png", full_page=True)


def test_works_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/a/town")
        page.get_by_role("button", name="Disagree", exact=True).click()
        page.wait_for_load_state()
        assert re.search(r"/a/town#card$", page.url)
        assert progress(page) == "1 of 4"
        page.get_by_role("link", name="My votes").click()
        assert page.locator(".vote-row .tag.disagree").count() == 1
    finally:
        context.close()


def test_refused_vote_is_announced_and_the_card_stays(live_server, page):
    page.goto(f"{live_server.url}/a/town")
    text = page.locator("#statement").inner_text()
    with Session(live_server.app.extensions["assembly_engine"]) as db:
        assembly = db.exec(select(Assembly)).one()
        assembly.is_open = False  # closed by a facilitator while the page was open
        db.add(assembly)
        db.commit()
    page.get_by_role("button", name="Agree", exact=True).click()
    alert = page.locator("#notice [role=alert]")
    expect(alert).to_contain_text("This assembly is closed")
    assert page.locator("#statement").inner_text() == text
    assert progress(page) == "0 of 4"
