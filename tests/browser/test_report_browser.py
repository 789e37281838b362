"""The report page on a 390x844 phone: reached from the navigation, no sideways scroll, bars drawn, printable."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.models import Assembly
from assembly.results.runs import run_clustering
from assembly.voting.rules import create_participant, record_vote

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _two_camps_voted(app) -> None:
    """Ten participants in two camps of five on the four seed statements, clustered once."""
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly)).one()
        for n in range(10):
            p = create_participant(db, a)
            for tid in range(4):
                record_vote(db, a, p, tid, 1 if (tid < 2) == (n < 5) else -1)
        run_clustering(db, a, device="cpu")


def test_report_on_a_phone_from_the_navigation_and_in_print(live_server, browser):
    live_server.app.config["RESULTS_MIN_GROUP_SIZE"] = 3
    _two_camps_voted(live_server.app)
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/a/town/results")
        page.get_by_role("navigation", name="This assembly").get_by_role("link", name="Report").click()
        expect(page).to_have_url(f"{live_server.url}/a/town/report")
        expect(page.get_by_role("heading", name="Every statement, by group")).to_be_visible()
        statements = page.locator("li.report-statement")
        expect(statements).to_have_count(4)
        # Each statement: everyone, group A, group B; its bars take real width on the phone.
        first = statements.first
        expect(first.locator(".split")).to_have_count(3)
        bar = first.locator("svg.split-bar").first.bounding_box()
        assert bar["width"] > 150 and bar["x"] + bar["width"] <= PHONE["width"], bar
        expect(page.get_by_text("Votes per day")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Printed, the site header and navigation go; the statements stay.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="This assembly")).to_be_hidden()
        expect(statements.first).to_be_visible()
    finally:
        context.close()
