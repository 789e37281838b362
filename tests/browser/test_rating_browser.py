"""A participant on a 390x844 phone rates two blind answers: htmx swaps the next card in, no page load,
the layout fits the screen, and the choice is stored once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.evals.rating_models import RatingChoice
from assembly.models import Assembly
from tests.rating_support import answered_round

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_rating_on_a_phone_swaps_cards_and_counts_each_choice_once(live_server, browser):
    with Session(live_server.app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly)).one()
        answered_round(db, a, ("Should the town plant more trees?", "Should buses run all night?"))
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/a/town/rate")
        expect(page.locator("#rating h2")).to_have_text("Vote first")
        page.goto(f"{live_server.url}/a/town")
        with page.expect_response(lambda r: r.url.endswith("/a/town/vote")):
            page.locator("#card button.agree").click()  # the first vote makes this browser a participant
        page.goto(f"{live_server.url}/a/town/votes")
        page.locator(".assembly-nav a", has_text="Compare answers").click()  # the open round is in the menu
        expect(page.locator("#rating blockquote")).to_have_text("Should the town plant more trees?")
        answers = page.locator("#rating .answer-text").all_text_contents()
        assert sorted(answers) == ["adapter 0", "base 0"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = page.locator("#rating .vote-buttons button").last.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"]
        page.evaluate("window.__same_page = true")
        page.locator("#rating button[value=A]").click()
        expect(page.locator("#rating blockquote")).to_have_text("Should buses run all night?")
        assert page.evaluate("window.__same_page === true")  # swapped by htmx, not reloaded
        page.locator("#rating button[value=tie]").click()
        expect(page.locator("#rating h2")).to_have_text("Thank you: you have rated every answer")
        # change the first choice: it replaces the old one
        page.locator("#rating details summary").click()
        page.locator("#rating details a").first.click()
        page.locator("#rating button[value=B]").click()
        expect(page.locator("#rating h2")).to_have_text("Thank you: you have rated every answer")
    finally:
        context.close()
    with Session(live_server.app.extensions["assembly_engine"]) as db:
        rows = list(db.exec(select(RatingChoice).order_by(RatingChoice.prompt_id)))
    assert len(rows) == 2
    first = rows[0]
    assert first.outcome == ("base" if first.adapter_shown_as == "A" else "adapter")  # B was picked last
    assert rows[1].outcome == "tie"
