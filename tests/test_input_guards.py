"""assembly/guards.py: lone surrogates and deep nesting are a 400 that writes nothing; body limits per route."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from assembly.auth import issue_token
from assembly.models import Assembly, Facilitator, Participant, Statement, XidAllow
from tests.conftest import FACILITATOR_EMAIL, make_town_app


def counts(db) -> tuple[int, ...]:
    db.expire_all()
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (Assembly, Participant, Statement,
                                                                                 XidAllow))


@pytest.fixture
def owner_token(db, assembly) -> str:
    fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    assembly.owner_id = fac.id
    db.add(assembly)
    db.commit()
    return issue_token(db, fac, "tests")


def raw(client, url: str, body: str, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(url, data=body.encode(), headers=headers)


# The surrogate is written as the JSON escape, as a script would send it (raw ones are invalid UTF-8).
SURROGATE_BODIES = {
    "statement (new participant)": ("/api/assemblies/town/statements", '{"text": "lone \\ud800 here"}', None),
    "join xid": ("/api/assemblies/town/participants", '{"xid": "member-\\udfff"}', None),
    "seeding": ("/api/assemblies/town/statements", '[{"text": "fine"}, {"text": "bad \\udc00"}]', "owner"),
    "object key": ("/api/assemblies/town/participants", '{"x\\ud800": 1}', None),
}


@pytest.mark.parametrize("what", sorted(SURROGATE_BODIES))
def test_a_lone_surrogate_is_a_400_that_writes_nothing(client, db, owner_token, what):
    url, body, token = SURROGATE_BODIES[what]
    before = counts(db)
    r = raw(client, url, body, owner_token if token == "owner" else None)
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert "surrogate" in r.get_data(as_text=True)
    assert counts(db) == before


def test_a_surrogate_pair_is_an_emoji_and_accepted(client, db, assembly):
    # json.dumps escapes U+1F333 as the pair \ud83c\udf33: valid, and must still pass the guard.
    r = raw(client, "/api/assemblies/town/statements", json.dumps({"text": "Plant a tree \U0001F333 here"}))
    assert r.status_code == 201, r.json
    assert db.exec(select(Statement.text).where(Statement.tid == 3)).one() == "Plant a tree \U0001F333 here"


@pytest.mark.parametrize("depth", [100_000, 200])
def test_deeply_nested_json_is_a_400(client, db, assembly, depth):
    before = counts(db)
    r = raw(client, "/api/assemblies/town/statements", "[" * depth + "]" * depth)
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert "nested deeper" in r.get_data(as_text=True)
    small = min(depth, 20_000)  # within the small routes' body limit
    r = raw(client, "/api/assemblies/town/participants", '{"xid": ' + "[" * small + "]" * small + "}")
    assert r.status_code == 400
    assert counts(db) == before


def test_many_flat_brackets_are_not_nesting(client, owner_token):
    # 300 statements in one list: many brackets, depth 2.
    body = json.dumps([{"text": f"Statement number {i}"} for i in range(300)])
    assert raw(client, "/api/assemblies/town/statements", body, owner_token).status_code == 201


def test_small_routes_refuse_a_large_body_and_bulk_routes_take_it(database_url):
    app = make_town_app(database_url, MAX_BODY_BYTES=2048, MAX_BULK_BODY_BYTES=200_000)
    client = app.test_client()
    with app.app_context():
        from assembly.db import get_session

        db = get_session()
        fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
        town = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
        town.owner_id = fac.id
        db.add(town)
        db.commit()
        token = issue_token(db, fac, "tests")
    padding = "x" * 4000
    # A vote (small route) with a 4 kB body: 413 before any view runs.
    r = raw(client, "/api/assemblies/town/votes", json.dumps({"tid": 0, "vote": 1, "pad": padding}))
    assert r.status_code == 413
    r = client.post("/a/town/vote", data={"tid": "0", "value": "1", "pad": padding})
    assert r.status_code == 413
    # Seeding a list (a bulk route) of 40 kB is accepted...
    body = json.dumps([{"text": f"Seed statement {i} " + "y" * 200} for i in range(150)])
    assert 30_000 < len(body) < 200_000
    assert raw(client, "/api/assemblies/town/statements", body, token).status_code == 201
    # ... and the bulk limit holds there too.
    body = json.dumps([{"text": f"Another statement {i} " + "z" * 250} for i in range(1000)])
    assert raw(client, "/api/assemblies/town/statements", body, token).status_code == 413
    app.extensions["assembly_engine"].dispose()


def test_default_limits_are_small_and_bulk(app):
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_BODY_BYTES"] <= 256 * 1024
    assert app.config["MAX_BULK_BODY_BYTES"] >= 2 * 1024 * 1024  # 1,000 seed statements of 280 escaped characters
