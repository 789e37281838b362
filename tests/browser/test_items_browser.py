"""A participant on the community eval items page in a real browser: votes on items and proposes one
without page reloads (htmx, CSRF on), and the facilitator's page lists the new item."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.evals.community import propose
from assembly.evals.models import CommunityItem, CommunityItemVote
from assembly.models import Assembly

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

ITEMS = (
    ("How should the town keep its water clean?", "Test it often and publish the results.", "Not your business."),
    ("Should the library open on Sundays?", "Yes, many people can only come then.", "Libraries are useless."),
)


def test_votes_and_proposes_items_without_reloading(live_server, page):
    with Session(live_server.app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
        for prompt, good, bad in ITEMS:
            propose(db, a, prompt, good, bad)
    page.goto(f"{live_server.url}/a/town/items")
    expect(page.locator("#progress .progress-count")).to_have_text("0 of 2")
    page.evaluate("window.__sameDocument = true")  # a reload would wipe this
    expect(page.locator("#item")).to_contain_text(ITEMS[0][0])
    page.get_by_role("button", name="Agree", exact=True).click()
    expect(page.locator("#progress .progress-count")).to_have_text("1 of 2")
    expect(page.locator("#item")).to_contain_text(ITEMS[1][0])
    page.get_by_role("button", name="Disagree", exact=True).click()
    expect(page.get_by_role("heading", name="You have seen every item")).to_be_visible()

    page.fill("#item-prompt", "Should buses run all night?")
    page.fill("#item-good", "Yes, on the main lines.")
    page.fill("#item-bad", "Yes, on the main lines.")  # the same: refused beside the form
    page.get_by_role("button", name="Propose item").click()
    expect(page.locator("#item-error")).to_contain_text("say the same")
    page.fill("#item-bad", "Nobody needs buses.")
    page.get_by_role("button", name="Propose item").click()
    expect(page.locator("#propose .success")).to_contain_text("Your item was added")
    expect(page.locator("#progress .progress-count")).to_have_text("3 of 3")  # the author's own agree vote
    assert page.evaluate("window.__sameDocument") is True

    with Session(live_server.app.extensions["assembly_engine"]) as db:
        assert [i.prompt for i in db.exec(select(CommunityItem).order_by(CommunityItem.id))][-1] == \
            "Should buses run all night?"
        assert sorted(v.value for v in db.exec(select(CommunityItemVote))) == [-1, 1, 1]
