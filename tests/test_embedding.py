"""Embedding: citizen pages may be framed by the listed origins; facilitator pages never."""

from __future__ import annotations

import re

import pytest

from assembly.models import Facilitator
from assembly.settings import resolve
from tests.conftest import make_town_app


def ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"]).group(1).strip()


def test_framing_is_forbidden_by_default(client, assembly):
    assert ancestors(client.get("/a/town")) == "'none'"


def test_listed_origins_may_frame_citizen_pages_only(database_url):
    app = make_town_app(database_url, EMBED_ALLOWED_ORIGINS="https://vtaiwan.tw https://*.g0v.tw")
    client = app.test_client()
    for path in ("/a/town", "/a/town/votes", "/a/town/results", "/a/town/constitution"):
        assert ancestors(client.get(path)) == "'self' https://vtaiwan.tw https://*.g0v.tw", path
    for path in ("/", "/auth/login", "/facilitate/", "/api/assemblies/town/results"):
        assert ancestors(client.get(path)) == "'none'", path


@pytest.mark.parametrize("bad", ["vtaiwan.tw", "https://vtaiwan.tw/path", "javascript:alert(1)", "https://a b"])
def test_bad_origins_are_refused_at_start(bad):
    with pytest.raises(ValueError, match="EMBED_ALLOWED_ORIGINS"):
        resolve({"EMBED_ALLOWED_ORIGINS": bad}, environ={})


def test_facilitator_page_has_the_embed_snippet(database_url):
    from sqlmodel import Session, select

    from assembly.models import Assembly
    from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD

    app = make_town_app(database_url, EMBED_ALLOWED_ORIGINS="https://vtaiwan.tw")
    with Session(app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly)).one()
        a.owner_id = db.exec(select(Facilitator)).one().id
        db.add(a)
        db.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": FACILITATOR_PASSWORD})
    html = client.get("/facilitate/town/", headers={"Accept-Language": "en"}).text
    snippet = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert snippet.startswith('&lt;iframe src="http://localhost/a/town" title="Our town"')
    assert "https://vtaiwan.tw" in html
