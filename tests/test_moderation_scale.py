"""Moderation at scale: filters, bulk accept/reject, blocking a participant (facilitation/moderation.py)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from assembly.constitution.build import gather
from assembly.models import Assembly, Facilitator, Moderation, Participant, Statement, Vote
from assembly.results.vote_snapshot import counted_vote_events, load_snapshot
from assembly.voting.rules import add_statement, create_participant, record_vote
from tests.conftest import FACILITATOR_EMAIL, log_in

MOD = "/facilitate/town/moderation"


@pytest.fixture
def town(db, assembly) -> Assembly:
    """The conftest town, owned by the test facilitator, with two participants' statements and votes."""
    owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    assembly.owner_id = owner.id
    assembly.strict_moderation = True
    db.add(assembly)
    db.commit()
    return assembly


@pytest.fixture
def people(db, town):
    """(troll, citizen): each wrote one pending statement and voted on the three seeds and on it."""
    troll, citizen = create_participant(db, town), create_participant(db, town)
    add_statement(db, town, "Spam spam 50% off_now", author=troll)  # tid 3
    add_statement(db, town, "More benches in the park.", author=citizen)  # tid 4
    for person, own in ((troll, 3), (citizen, 4)):
        for tid in (0, 1, 2, own):
            record_vote(db, town, person, tid, 1)
    return troll, citizen


def test_filters_select_and_validate(client, db, town, people):
    log_in(client, town.owner_id)
    page = client.get(MOD + "?state=pending&q=50%25").get_data(as_text=True)  # % is literal, not a wildcard
    assert "Spam spam" in page and "More benches" not in page
    page = client.get(MOD + "?state=pending&q=m_5").get_data(as_text=True)  # so is _ (it would match "m 5")
    assert "Spam spam" not in page
    db.get(Statement, db.exec(select(Statement.id).where(Statement.tid == 4)).one()).is_meta = True
    db.commit()
    page = client.get(MOD + "?state=pending&meta=yes").get_data(as_text=True)
    assert "More benches" in page and "Spam spam" not in page
    page = client.get(MOD + "?state=pending&meta=no").get_data(as_text=True)
    assert "Spam spam" in page and "More benches" not in page
    page = client.get(MOD + "?state=pending&lang=cmn").get_data(as_text=True)
    assert "Spam spam" not in page and "More benches" not in page
    for bad in ("meta=maybe", "lang=klingon", "state=gone", "q=" + "x" * 201):
        assert client.get(f"{MOD}?{bad}").status_code == 400, bad


def test_bulk_accept_and_reject_in_one_post(client, db, town, people):
    log_in(client, town.owner_id)
    r = client.post(MOD + "/bulk", data={"action": "accept", "tid": ["3", "4"], "state": "pending", "q": "e"})
    assert r.status_code == 302 and r.headers["Location"] == f"{MOD}?state=pending&q=e"
    db.expire_all()
    assert {s.tid: s.moderation for s in db.exec(select(Statement).where(Statement.tid >= 3))} == {
        3: Moderation.accepted, 4: Moderation.accepted}
    assert "2 statements accepted." in client.get(MOD + "?state=accepted").get_data(as_text=True)
    # One unknown statement refuses them all; bad actions and empty ticks are refused too.
    assert client.post(MOD + "/bulk", data={"action": "reject", "tid": ["3", "99"]}).status_code == 404
    assert client.post(MOD + "/bulk", data={"action": "reject", "tid": ["x"]}).status_code == 400
    assert client.post(MOD + "/bulk", data={"action": "delete", "tid": ["3"]}).status_code == 400
    assert client.post(MOD + "/bulk", data={"action": "reject"}).status_code == 400
    db.expire_all()
    assert db.exec(select(Statement).where(Statement.tid == 3)).one().moderation == Moderation.accepted
    assert client.post(MOD + "/bulk", data={"action": "reject", "tid": ["3"]}).status_code == 302
    db.expire_all()
    assert db.exec(select(Statement).where(Statement.tid == 3)).one().moderation == Moderation.rejected


def test_blocking_leaves_the_snapshot_and_counts_but_keeps_the_rows(client, db, town, people):
    troll, citizen = people
    before = load_snapshot(db, town.id)
    assert troll.pid in before.pids.tolist() and before.n_votes == 8
    log_in(client, town.owner_id)
    r = client.post(f"/facilitate/town/participants/{troll.pid}/block", data={"state": "pending"})
    assert r.status_code == 302
    snap = load_snapshot(db, town.id)
    assert troll.pid not in snap.pids.tolist() and troll.pid not in snap.all_pids.tolist()
    assert snap.n_votes == 4 and 3 in snap.rejected_tids.tolist()  # the troll's statement leaves the groups
    assert counted_vote_events(db, town.id) == 5  # events: the author's own agree counts twice
    statements, votes, n_participants, n_events = gather(db, town)
    assert n_participants == 1 and n_events == 5 and all(p == citizen.pid for p, _t in votes)
    assert next(s for s in statements if s.tid == 3).moderation == "rejected"
    # Kept for the audit trail: the rows are all still there.
    assert len(db.exec(select(Vote).where(Vote.participant_id == troll.id)).all()) == 5
    assert db.exec(select(Statement).where(Statement.tid == 3)).one().author_id == troll.id
    page = client.get(MOD + "?state=pending").get_data(as_text=True)
    assert "Blocked participants" in page and "Unblock this participant" in page

    assert client.post("/facilitate/town/participants/99/block").status_code == 404
    client.post(f"/facilitate/town/participants/{troll.pid}/unblock")
    db.expire_all()
    assert db.get(Participant, troll.id).blocked_at is None and load_snapshot(db, town.id).n_votes == 8


def test_failed_login_keeps_the_email(client):
    r = client.post("/auth/login", data={"email": "Facilitator@Example.org", "password": "wrong"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'value="facilitator@example.org"' in html and "wrong" not in html.split("<main")[-1]
