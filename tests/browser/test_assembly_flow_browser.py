"""The whole assembly in a real browser: a participant votes and writes, a facilitator accepts, another sees it."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.models import Assembly, Moderation, Statement, Vote
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD

pytestmark = pytest.mark.browser

NEW = "Bus stops need shelters from the rain."


def test_participant_votes_and_writes_then_facilitator_accepts(live_server, browser):
    from playwright.sync_api import expect

    with Session(live_server.app.extensions["assembly_engine"]) as db:
        assembly = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
        assembly.strict_moderation = True
        db.add(assembly)
        db.commit()

    # A participant votes on three statements and adds one; it waits for moderation.
    citizen = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    citizen.goto(f"{live_server.url}/a/town")
    for n, button in enumerate(("Agree", "Disagree", "Pass / Unsure"), start=1):
        citizen.get_by_role("button", name=button, exact=True).click()
        expect(citizen.locator("#progress .progress-count")).to_have_text(f"{n} of 4")
    citizen.get_by_label("Your statement").fill(NEW)
    citizen.get_by_role("button", name="Submit statement").click()
    expect(citizen.locator("#write .success")).to_contain_text("facilitator")

    # The facilitator logs in, finds it in the moderation queue and accepts it (htmx swaps the row).
    fac = browser.new_context().new_page()
    fac.goto(f"{live_server.url}/auth/login")
    fac.get_by_label("E-mail").fill(FACILITATOR_EMAIL)
    fac.get_by_label("Password").fill(FACILITATOR_PASSWORD)
    fac.get_by_role("button", name="Log in").click()
    fac.goto(f"{live_server.url}/facilitate/town/moderation?state=pending")
    row = fac.locator("li.statement", has_text=NEW)
    row.get_by_role("button", name="Accept").click()
    expect(fac.locator("li.statement", has_text=NEW).locator(".badge.accepted")).to_be_visible()

    # A second participant now gets the accepted statement among their cards.
    other = browser.new_context().new_page()
    other.goto(f"{live_server.url}/a/town")
    seen = set()
    for _ in range(5):
        seen.add(other.locator("#statement").inner_text().strip())
        other.get_by_role("button", name="Pass / Unsure", exact=True).click()
        expect(other.locator("#progress .progress-count")).to_have_text(f"{len(seen)} of 5")
    assert NEW in seen

    with Session(live_server.app.extensions["assembly_engine"]) as db:
        st = db.exec(select(Statement).where(Statement.text == NEW)).one()
        assert st.moderation == Moderation.accepted
        assert len(db.exec(select(Vote)).all()) == 3 + 1 + 5  # three votes, the author's agree, five passes
    for page in (citizen, fac, other):
        page.context.close()
