"""Abuse limits (issue 11): joins per address and assembly, forged and unknown tokens, one bucket per
token whatever the scheme's case, first votes per assembly, the trusted-proxy setting, login throttling."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from assembly.models import Participant, Vote
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, make_town_app


def participants(app) -> int:
    with Session(app.extensions["assembly_engine"]) as db:
        return db.exec(select(func.count()).select_from(Participant)).one()


def votes(app) -> int:
    with Session(app.extensions["assembly_engine"]) as db:
        return db.exec(select(func.count()).select_from(Vote)).one()


@pytest.fixture
def limited(database_url):
    def make(**config):
        app = make_town_app(database_url, RATELIMIT_ENABLED=True, **config)
        apps.append(app)
        return app

    apps: list = []
    yield make
    for app in apps:
        app.extensions["assembly_engine"].dispose()


def test_joins_are_limited_per_address(limited):
    app = limited(RATELIMIT_JOINS_PER_ADDRESS="3 per hour")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/assemblies/town/participants", json={}).status_code == 201
    r = client.post("/api/assemblies/town/participants", json={})
    assert r.status_code == 429
    # Fresh browsers from the same address voting for the first time join too: the same limit.
    r = app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"})
    assert r.status_code == 429
    assert participants(app) == 3 and votes(app) == 0


def test_joins_are_limited_per_assembly_and_forwarded_for_only_counts_behind_a_trusted_proxy(limited):
    app = limited(RATELIMIT_JOINS_PER_ADDRESS="2 per hour", RATELIMIT_JOINS_PER_ASSEMBLY="5 per hour",
                  TRUSTED_PROXIES=1)
    client = app.test_client()
    codes = [client.post("/api/assemblies/town/participants", json={},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(7)]
    assert codes == [201] * 5 + [429] * 2  # seven addresses, but the assembly takes five an hour
    assert participants(app) == 5


def test_without_trusted_proxies_x_forwarded_for_is_ignored(limited):
    app = limited(RATELIMIT_JOINS_PER_ADDRESS="2 per hour")
    client = app.test_client()
    codes = [client.post("/api/assemblies/town/participants", json={},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]  # a client cannot pick a new address per request


def test_an_unknown_participant_token_is_refused_not_joined(limited):
    app = limited()
    client = app.test_client()
    for path, body in (("/api/assemblies/town/votes", {"tid": 0, "vote": 1}),
                       ("/api/assemblies/town/statements", {"text": "A made-up token wrote this."})):
        r = client.post(path, json=body, headers={"Authorization": "Bearer pt_madeup"})
        assert r.status_code == 401, r.json
    assert participants(app) == 0 and votes(app) == 0


def test_html_routes_do_not_take_a_made_up_bearer_token(limited):
    app = limited(WTF_CSRF_ENABLED=True)
    for i in range(5):
        headers = {"Authorization": f"Bearer pt_forged{i}"}
        client = app.test_client()
        assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}, headers=headers).status_code == 400
        assert client.post("/a/town/statements", data={"text": "Forged."}, headers=headers).status_code == 400
    assert participants(app) == 0 and votes(app) == 0


def test_the_bearer_scheme_in_any_case_is_one_bucket(limited):
    app = limited(RATELIMIT_VOTES="2 per minute")
    client = app.test_client()
    token = client.post("/api/assemblies/town/participants", json={}).json["token"]
    codes = [client.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1},
                         headers={"Authorization": f"{scheme} {token}"}).status_code
             for scheme in ("Bearer", "Bearer", "bearer", "BEARER")]
    assert codes == [201, 201, 429, 429]


def test_first_votes_are_counted_per_assembly_with_their_own_setting(limited):
    app = limited(RATELIMIT_NEWCOMERS="3 per minute", RATELIMIT_VOTES="1 per minute")
    with Session(app.extensions["assembly_engine"]) as db:
        from assembly.models import Assembly
        from assembly.voting.rules import add_statement

        other = Assembly(slug="park", title="Our park")
        db.add(other)
        db.commit()
        add_statement(db, other, "More benches.", is_seed=True)
    # Three fresh browsers behind one address (a classroom NAT) vote in town: the newcomer limit, not
    # the one-vote-per-minute participant limit, applies to each one's first vote.
    for _ in range(3):
        assert app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 302
    assert app.test_client().post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 429
    # The same address's first vote in another assembly is a bucket of its own.
    assert app.test_client().post("/a/park/vote", data={"tid": "0", "value": "1"}).status_code == 302
    assert votes(app) == 4


def test_login_attempts_are_limited_per_account(limited):
    app = limited(RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes")
    client = app.test_client()
    for _ in range(3):
        r = client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": "wrong password"})
        assert r.status_code == 400
    # Even the right password waits now: the guesser cannot tell it was right.
    r = client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": FACILITATOR_PASSWORD})
    assert r.status_code == 429 and "Too many login attempts" in r.text
    # Another account from the same address is not affected by this account's limit.
    r = client.post("/auth/login", data={"email": "other@example.org", "password": "wrong password"})
    assert r.status_code == 400


def test_login_attempts_are_limited_per_address(limited):
    app = limited(RATELIMIT_LOGIN_PER_ADDRESS="4 per 15 minutes")
    client = app.test_client()
    codes = [client.post("/auth/login", data={"email": f"guess{i}@example.org", "password": "x" * 12}).status_code
             for i in range(6)]
    assert codes == [400] * 4 + [429] * 2


def test_an_unknown_email_costs_a_password_hash_too(app, monkeypatch):
    import assembly.auth

    checked = []
    real = assembly.auth.check_password_hash
    monkeypatch.setattr(assembly.auth, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    client = app.test_client()
    client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": "wrong password"})
    client.post("/auth/login", data={"email": "nobody@example.org", "password": "wrong password"})
    assert len(checked) == 2
    assert checked[0].split("$")[0] == checked[1].split("$")[0]  # the same scrypt parameters: the same cost
