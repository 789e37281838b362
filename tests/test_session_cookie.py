"""The session cookie: SameSite=Lax, Secure over HTTPS (directly or as a trusted proxy says), and only a
reference to the participant in it, never the token."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.models import Participant
from tests.conftest import make_town_app


def set_cookie(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))


@pytest.fixture
def town(database_url):
    apps = []

    def make(**config):
        app = make_town_app(database_url, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["assembly_engine"].dispose()


def test_cookie_is_samesite_lax_and_secure_only_over_https(town):
    app = town()
    plain = set_cookie(app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}))
    assert "SameSite=Lax" in plain and "Secure" not in plain
    https = app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}, base_url="https://localhost")
    assert "Secure" in set_cookie(https) and "SameSite=Lax" in set_cookie(https)
    # A proxy's X-Forwarded-Proto is believed only when TRUSTED_PROXIES says a proxy is there.
    fwd = {"X-Forwarded-Proto": "https"}
    untrusted = app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}, headers=fwd)
    assert "Secure" not in set_cookie(untrusted)


def test_secure_behind_a_trusted_proxy(town):
    proxied = town(TRUSTED_PROXIES=1)
    r = proxied.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"},
                                   headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert "Secure" in set_cookie(r)


def test_secure_always_by_setting(town):
    always = town(COOKIE_SECURE="always")
    assert "Secure" in set_cookie(always.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}))


def test_the_cookie_holds_a_reference_not_the_participant_token(town):
    app = town()
    client = app.test_client()
    response = client.post("/a/town/vote", data={"tid": "0", "value": "1"})
    cookie = set_cookie(response).split(";")[0].removeprefix("session=")
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    with Session(app.extensions["assembly_engine"]) as db:
        participant = db.exec(select(Participant)).one()
    assert data["participants"] == {"town": participant.id}
    assert participant.token not in repr(data)
    # The reference keeps working: the next vote is the same participant's.
    assert client.post("/a/town/vote", data={"tid": "1", "value": "-1"}).status_code == 302
    with Session(app.extensions["assembly_engine"]) as db:
        assert len(db.exec(select(Participant)).all()) == 1


def test_an_old_cookie_with_the_token_still_works_and_is_replaced(town):
    app = town()
    client = app.test_client()
    token = client.post("/api/assemblies/town/participants", json={}, headers={"Authorization": "Bearer x"})
    assert token.status_code == 201
    with client.session_transaction() as s:
        s["participants"] = {"town": token.json["token"]}
    assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 302
    with client.session_transaction() as s:
        assert isinstance(s["participants"]["town"], int)
    with Session(app.extensions["assembly_engine"]) as db:
        assert len(db.exec(select(Participant)).all()) == 1


def test_where_embedding_is_allowed_the_cookie_is_samesite_none_and_secure(town):
    """Inside another site's iframe a Lax cookie is never sent: the embedded participant would be new on every card."""
    embedded = town(EMBED_ALLOWED_ORIGINS="https://vtaiwan.tw")
    client = embedded.test_client()
    cookie = set_cookie(client.post("/a/town/vote", data={"tid": "0", "value": "1"}, base_url="https://localhost"))
    assert "SameSite=None" in cookie and "Secure" in cookie
    # The iframe's next vote carries the cookie: still one participant.
    assert client.post("/a/town/vote", data={"tid": "1", "value": "1"}, base_url="https://localhost").status_code == 302
    with Session(embedded.extensions["assembly_engine"]) as db:
        assert len(db.exec(select(Participant)).all()) == 1
    # Secure even over plain http (a SameSite=None cookie without Secure is dropped by browsers).
    assert "Secure" in set_cookie(embedded.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}))
