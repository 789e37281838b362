"""What a citizen meets: Markdown descriptions made safe, one assembly navigation, error pages, no internal numbers."""

from __future__ import annotations

import re

import pytest

from assembly.markup import render_markdown

ZH = {"Accept-Language": "zh-TW,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}

PAYLOADS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">raw</a>',
    '<iframe src="https://evil.example"></iframe>',
    "[x](vbscript:msgbox(1))",
    '<p onclick="alert(1)">hi</p>',
]


def test_markdown_links_and_emphasis_render():
    html = str(render_markdown("**請點選**下方\n\n* [參考資料](http://example.org/a)\n* [信箱](mailto:a@example.org)"))
    assert "<strong>請點選</strong>" in html
    assert '<a href="http://example.org/a" rel="nofollow noopener">參考資料</a>' in html
    assert '<a href="mailto:a@example.org" rel="nofollow noopener">信箱</a>' in html
    assert "<ul>" in html and "<li>" in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_drops_scripts_and_unsafe_links(payload):
    html = str(render_markdown(f"Before {payload} after")).lower()
    assert "<script" not in html and "javascript:" not in html and "vbscript:" not in html
    assert "data:text" not in html and "onerror" not in html and "onclick" not in html and "<iframe" not in html
    assert "<img" not in html


def test_description_is_markdown_behind_more_on_the_page(client, db, assembly):
    assembly.description = "**Read first.**\n\n* [Background](https://example.org/bg)\n* [bad](javascript:alert(1))"
    db.add(assembly)
    db.commit()
    html = client.get("/a/town", headers=EN).text
    details = re.search(r'<details class="description">(.*?)</details>', html, re.S).group(1)
    assert "More about this assembly" in details
    assert "<strong>Read first.</strong>" in details
    assert 'href="https://example.org/bg" rel="nofollow noopener"' in details
    assert "javascript:" not in html and "**Read first" not in html


def test_question_equal_to_the_title_is_not_repeated(client, db, assembly):
    assembly.question = assembly.title
    db.add(assembly)
    db.commit()
    html = client.get("/a/town").text
    assert html.count(">Our town<") == 1


def test_citizens_see_no_internal_statement_numbers(client, db, assembly):
    html = client.get("/a/town", headers=EN).text
    assert "Statement #" not in html and not re.search(r">\s*#\d+\s*<", html)
    client.post("/a/town/vote", data={"tid": re.search(r'name="tid" value="(\d+)"', html).group(1), "value": "1"})
    votes = client.get("/a/town/votes", headers=EN).text
    assert "#" not in re.sub(r'(href|hx-target|id)="[^"]*"', "", votes.split("<main", 1)[1])


@pytest.mark.parametrize("path", ["/a/town", "/a/town/votes", "/a/town/results"])
def test_every_assembly_page_has_one_navigation(client, assembly, path):
    html = client.get(path, headers=EN).text
    nav = re.findall(r'<nav class="assembly-nav"[^>]*>(.*?)</nav>', html, re.S)
    assert len(nav) == 1
    hrefs = re.findall(r'href="([^"]+)"', nav[0])
    assert hrefs == ["/a/town", "/a/town/votes", "/a/town/items", "/a/town/results", "/a/town/report",
                     "/a/town/constitution"]
    assert nav[0].count('aria-current="page"') == 1


def test_unknown_url_is_a_404_page_in_the_layout_and_language(client):
    r = client.get("/no/such/page", headers=ZH)
    assert r.status_code == 404
    assert '<html lang="zh-Hant-TW">' in r.text and "找不到頁面" in r.text
    assert 'class="site"' in r.text and 'href="/"' in r.text and "Not Found" not in r.text


def test_unpublished_constitution_404_says_none_is_published_yet(client, assembly):
    r = client.get("/a/town/constitution", headers=EN)
    assert r.status_code == 404
    assert "No published constitution yet." in r.text
    assert 'href="/a/town"' in r.text and "assembly-nav" in r.text  # a way back to voting
    r = client.get("/a/town/constitution/v/99", headers=ZH)
    assert r.status_code == 404 and '<html lang="zh-Hant-TW">' in r.text and "Not Found" not in r.text


def test_unknown_assembly_and_forbidden_pages_use_the_layout(client, auth, db, assembly):
    r = client.get("/a/nowhere", headers=EN)
    assert r.status_code == 404 and 'class="site"' in r.text and 'href="/"' in r.text
    auth.login()
    r = client.get("/facilitate/town/", headers=EN)  # another facilitator's assembly
    assert r.status_code in (403, 404) and 'class="site"' in r.text and "Forbidden" not in r.text


def test_api_errors_stay_json(client):
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404 and r.is_json and "error" in r.get_json()


def test_rate_limit_page_in_the_layout(database_url):
    from tests.conftest import make_town_app

    app = make_town_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_VOTES="1 per minute")
    client = app.test_client()
    for _ in range(3):
        r = client.post("/a/town/vote", data={"tid": "0", "value": "1"}, headers=ZH)
    assert r.status_code == 429 and 'class="site"' in r.text and '<html lang="zh-Hant-TW">' in r.text


def test_server_error_page_in_the_layout(database_url):
    from tests.conftest import make_town_app

    app = make_town_app(database_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    r = app.test_client().get("/boom", headers=EN)
    assert r.status_code == 500 and 'class="site"' in r.text
    assert "secret detail" not in r.text and "Something went wrong on our side" in r.text
