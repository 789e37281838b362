"""A citizen on a 390x844 phone: the card and its buttons come first; results and constitution are one tap away."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.models import Assembly

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LONG_DESCRIPTION = "\n\n".join(
    ["**請點選下方的參考資料，了解議題背景。** Please read the background before you vote."]
    + [f"* [參考資料 {n}](https://example.org/ref/{n}) — a paragraph of background that takes a line or two." for n in
       range(12)]
    + ["This consultation runs for four weeks. " * 12]
)


def phone_page(browser, locale: str):
    context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.mark.parametrize("locale", ["zh-TW", "en-US"])
def test_card_and_vote_buttons_are_above_the_fold_with_a_long_description(live_server, browser, locale):
    with Session(live_server.app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly)).one()
        a.description = LONG_DESCRIPTION
        db.add(a)
        db.commit()
    context, page = phone_page(browser, locale)
    try:
        page.goto(f"{live_server.url}/a/town")
        buttons = page.locator("#card .vote-buttons button")
        assert buttons.count() == 3
        for i in range(3):
            box = buttons.nth(i).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (i, box)
        assert page.locator("#statement").bounding_box()["y"] < PHONE["height"] / 2
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The description is behind "more", rendered as Markdown with working links.
        link = page.locator("details.description a").first
        expect(link).to_be_hidden()
        page.locator("details.description summary").click()
        expect(link).to_be_visible()
        assert link.get_attribute("href") == "https://example.org/ref/0"
        assert link.get_attribute("rel") == "nofollow noopener"
    finally:
        context.close()


def test_results_and_constitution_are_reachable_and_lead_back(live_server, browser):
    context, page = phone_page(browser, "en-US")
    try:
        page.goto(f"{live_server.url}/a/town")
        nav = page.get_by_role("navigation", name="This assembly")
        nav.get_by_role("link", name="Results").click()
        expect(page).to_have_url(f"{live_server.url}/a/town/results")
        page.get_by_role("navigation", name="This assembly").get_by_role("link", name="Constitution").click()
        # None is published yet: a page in the layout that says so, with the way back.
        expect(page.get_by_text("No published constitution yet.")).to_be_visible()
        page.get_by_role("navigation", name="This assembly").get_by_role("link", name="Vote", exact=True).click()
        expect(page).to_have_url(f"{live_server.url}/a/town")
        expect(page.get_by_role("button", name="Agree", exact=True)).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
