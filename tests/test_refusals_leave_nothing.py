"""A refused request must change nothing: in particular it must not join a new participant."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from assembly.models import Participant, Vote


def participants(db) -> int:
    return db.exec(select(func.count()).select_from(Participant)).one()


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/a/town/vote", {"tid": "99", "value": "1"}, 404),  # unknown statement
        ("/a/town/vote", {"tid": str(10**20), "value": "1"}, 404),  # beyond any database integer
        ("/a/town/vote", {"tid": "0", "value": "7"}, 400),  # not a vote value
        ("/a/town/statements", {"text": "   "}, 400),  # empty statement
        ("/a/town/statements", {"text": "Build more bike lanes."}, 409),  # duplicate
    ],
)
def test_refused_browser_requests_join_no_one(client, db, assembly, path, data, status):
    assert client.post(path, data=data).status_code == status
    assert participants(db) == 0 and db.exec(select(Vote)).all() == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/assemblies/town/votes", {"tid": 99, "vote": 1}, 404),
        ("/api/assemblies/town/votes", {"tid": 10**20, "vote": 1}, 404),
        ("/api/assemblies/town/statements", {"text": ""}, 400),
    ],
)
def test_refused_cookie_api_requests_join_no_one(client, db, assembly, path, body, status):
    r = client.post(path, json=body)
    assert r.status_code in (status, 422), r.get_json()
    assert participants(db) == 0


def test_closed_assembly_refuses_without_joining(client, db, assembly):
    assembly.is_open = False
    db.add(assembly)
    db.commit()
    assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 409
    assert client.post("/api/assemblies/town/statements", json={"text": "New idea here"}).status_code == 409
    assert participants(db) == 0


def test_an_accepted_vote_still_joins_and_counts_once(client, db, assembly):
    assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code in (302, 303)
    assert participants(db) == 1 and len(db.exec(select(Vote)).all()) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", f"/facilitate/town/statements/{10**20}/moderate", {"data": {"action": "accept"}}, 404),
        ("get", f"/facilitate/town/moderation?page={10**20}", {}, 200),
        ("patch", f"/api/assemblies/town/statements/{10**20}", {"json": {"moderation": "accepted"}}, 404),
        ("get", f"/a/town/constitution/v/{10**20}", {}, 404),
    ],
)
def test_huge_numbers_in_urls_are_not_a_crash(client, auth, db, assembly, method, path, kwargs, status):
    from assembly.models import Assembly, Facilitator

    owner = db.exec(select(Facilitator)).first()
    town = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
    town.owner_id = owner.id
    db.add(town)
    db.commit()
    auth.login()
    assert getattr(client, method)(path, **kwargs).status_code == status
