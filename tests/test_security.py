"""Request guards in assembly/security.py that keep both database backends answering alike."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from assembly.models import Assembly, Participant, Statement, XidAllow
from tests.conftest import FACILITATOR_EMAIL

NUL = "\x00"


def counts(db) -> tuple[int, ...]:
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (Assembly, Participant, Statement,
                                                                                 XidAllow))


@pytest.fixture
def owned(db, assembly):
    """The `assembly` fixture, owned by the test facilitator."""
    from assembly.models import Facilitator

    assembly.owner_id = db.exec(select(Facilitator.id).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    db.add(assembly)
    db.commit()
    return assembly


def _participant_token(client) -> str:
    return client.post("/api/assemblies/town/participants", json={}).json["token"]


# (what, how to send it): every way text reaches a query. PostgreSQL's driver refuses U+0000 in any
# parameter (a 500 before this guard), while SQLite stored it.
REQUESTS = {
    "page slug": lambda c, h: c.get("/a/to%00wn"),
    "api slug": lambda c, h: c.get("/api/assemblies/to%00wn"),
    "query string": lambda c, h: c.get("/facilitate/town/moderation?state=pend%00ing"),
    "json xid": lambda c, h: c.post("/api/assemblies/town/participants", json={"xid": f"a{NUL}b"}),
    "json statement": lambda c, h: c.post("/api/assemblies/town/statements", json={"text": f"Hi{NUL}there"},
                                          headers=h),
    "json key": lambda c, h: c.post("/api/assemblies", json={f"ti{NUL}tle": "x", "slug": "nul", "title": "T"}),
    "json list": lambda c, h: c.post("/api/assemblies/town/statements",
                                     json={"text": "Fine", "extra": ["ok", f"no{NUL}"]}, headers=h),
    "form statement": lambda c, h: c.post("/a/town/statements", data={"text": f"Hello{NUL}world"}),
    "form title": lambda c, h: c.post("/facilitate/new", data={"slug": "nul", "title": f"a{NUL}b", "language": "en",
                                                               "statement_max_length": "280"}),
    "form allow-list": lambda c, h: c.post("/facilitate/town/invites/add", data={"xids": f"a{NUL}b"}),
    "login email": lambda c, h: c.post("/auth/login", data={"email": f"a{NUL}@example.org", "password": "x"}),
    "bearer token": lambda c, h: c.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1},
                                        headers={"Authorization": f"Bearer pt_{NUL}"}),
}


@pytest.mark.parametrize("what", sorted(REQUESTS))
def test_a_nul_character_is_a_400_that_changes_nothing(client, auth, db, owned, what):
    token = _participant_token(client)
    auth.login()
    before = counts(db)
    response = REQUESTS[what](client, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "NUL character" in response.get_data(as_text=True)
    db.expire_all()
    assert counts(db) == before


def test_text_without_nul_still_passes(client, db, assembly):
    token = _participant_token(client)
    r = client.post("/api/assemblies/town/statements", json={"text": "Zero \\u0000 is just text here"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.json
    assert db.exec(select(Statement.text).where(Statement.tid == 3)).one() == "Zero \\u0000 is just text here"
