"""A new draft keeps the previous published version's review decisions (constitution/carry.py)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from assembly.constitution.build import build_draft, current_draft
from assembly.constitution.versions import load
from assembly.models import Facilitator, Participant
from assembly.voting.rules import add_statement, create_participant, record_vote
from tests.conftest import FACILITATOR_EMAIL
from tests.constitution_loader import planted_assembly
from tests.test_constitution_web import BASE, INFO, Reviewer

# Two more statements every planted participant agrees with, so the draft has four principles.
EXTRA = {8: "Streets should have more shade trees.", 9: "Bus fares should be free for students."}


@pytest.fixture(autouse=True)
def _ngrams(monkeypatch):
    monkeypatch.setenv("CONSTITUTION_SIMILARITY", "char-ngram-tfidf")


@pytest.fixture
def reviewed(app, client, db):
    """v1 published with a split, a merge, an exclusion, an edited wording and a move; returns (a, groups, reviewer)."""
    owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    a, groups = planted_assembly(db, owner_id=owner.id)
    people = db.exec(select(Participant).where(Participant.assembly_id == a.id).order_by(Participant.pid)).all()
    for tid, text in EXTRA.items():
        assert add_statement(db, a, text, is_seed=True).tid == tid
        for person in people:
            record_vote(db, a, person, tid, 1)
    with app.app_context():
        build_draft(db, a, groups, INFO)
    doc = draft(db, a)
    assert [p["id"] for p in doc["principles"]] == ["p8", "p0", "p6", "p9"]  # the rule's order
    assert {"p0", "p6", "p8", "p9"} == {p["id"] for p in doc["principles"]}
    assert [s["tid"] for s in principle(doc, "p0")["statements"]] == [0, 1]  # merged by the rule
    r = Reviewer(client, owner.id)
    assert r.post(f"{BASE}/principles/p0/split", {"tid": "1"}).status_code == 302
    assert r.post(f"{BASE}/principles/p8/merge", {"other": "p6"}).status_code == 302
    assert r.post(f"{BASE}/principles/p9/exclude", {"reason": "Not for a chatbot"}).status_code == 302
    assert r.post(f"{BASE}/principles/p0/wording", {"wording": "Choose the response that keeps water safe."}
                  ).status_code == 302
    assert r.post(f"{BASE}/principles/p1/move", {"position": "1"}).status_code == 302  # [p1, p8, p0]
    assert r.post(f"{BASE}/publish", {"confirm": "yes"}).status_code == 302
    return a, groups, r


def draft(db, a) -> dict:
    db.expire_all()
    return load(current_draft(db, a))


def principle(doc: dict, pid: str) -> dict:
    return next(p for p in doc["principles"] if p["id"] == pid)


def test_new_draft_keeps_every_decision(app, client, db, reviewed):
    a, groups, _r = reviewed
    newcomer = create_participant(db, a)
    for tid in (0, 1, 6, 8, 9):
        record_vote(db, a, newcomer, tid, 1)
    with app.app_context():
        build_draft(db, a, groups, INFO)
    doc = draft(db, a)
    assert [p["id"] for p in doc["principles"]] == ["p1", "p8", "p0"]  # order, split and exclusion kept
    assert [s["tid"] for s in principle(doc, "p8")["statements"]] == [8, 6]  # merge kept
    assert principle(doc, "p8")["statements"][1]["votes"]["agree"] == 17 + 1  # this draft's figures: the newcomer
    assert principle(doc, "p0")["training_form"] == "Choose the response that keeps water safe."
    assert principle(doc, "p0")["wording_edited"] is True
    assert principle(doc, "p1")["training_form"].startswith("Choose the response that best upholds")
    ex = next(e for e in doc["excluded"] if e["tid"] == 9)
    assert ex["reason"] == "excluded_by_facilitator" and ex["detail"] == "Not for a chatbot"
    carry = doc["review"][0]
    assert carry["action"] == "carry" and carry["from"] == 1
    assert carry["excluded"] == [9] and carry["merged"] == [[8, 6]] and carry["split"] == [[0, 1]]
    assert carry["reworded"] == ["p0"] and carry["order"] is True
    assert doc["process"]["vote_snapshot"]["count"] > 0

    page = client.get(BASE).get_data(as_text=True)
    assert "Kept the decisions of version 1: 1 exclusion, 1 merge, 1 split, 1 wording edit, the order" in page
    assert "Changed since version 1" in page and "Votes counted:" in page


def test_fresh_starts_clean_from_the_form_and_the_cli(app, client, db, runner, reviewed, monkeypatch, tmp_path):
    a, groups, r = reviewed
    assert r.post(f"{BASE}/build", {"fresh": "maybe"}).status_code == 400
    assert current_draft(db, a) is None  # refused, nothing written
    # The planted groups stand in for a clustering run (test_clustering_runs covers those).
    monkeypatch.setattr("assembly.constitution.web.current_groups", lambda _db, _a: (groups, INFO))
    assert r.post(f"{BASE}/build", {"fresh": "yes"}).status_code == 302
    doc = draft(db, a)
    assert not doc["review"] and "p9" in {p["id"] for p in doc["principles"]}
    assert [s["tid"] for s in principle(doc, "p0")["statements"]] == [0, 1]

    pid_of = dict(db.exec(select(Participant.id, Participant.pid)).all())
    rows = "\n".join(f"{pid_of[p]},{0 if g == 'A' else 1}" for p, g in groups.items())
    (tmp_path / "participants-votes.csv").write_text("participant,group-id\n" + rows + "\n")
    out = runner.invoke(args=["constitution", "build", "planted", "--groups-from", "polis-export", str(tmp_path)])
    assert out.exit_code == 0 and "kept from version 1: 1 exclusion(s), 1 merge(s), 1 split(s)" in out.output
    assert [p["id"] for p in draft(db, a)["principles"]] == ["p1", "p8", "p0"]
    out = runner.invoke(args=["constitution", "build", "planted", "--fresh", "--groups-from", "polis-export",
                              str(tmp_path)])
    assert out.exit_code == 0 and "kept from version" not in out.output
    assert "p9" in {p["id"] for p in draft(db, a)["principles"]}


def test_restore_brings_back_only_a_facilitator_exclusion(db, reviewed, app):
    a, groups, r = reviewed
    with app.app_context():
        build_draft(db, a, groups, INFO)
    assert r.post(f"{BASE}/statements/2/restore").status_code == 409  # divisive: the rule's, not ours
    assert r.post(f"{BASE}/statements/77/restore").status_code == 404
    before = draft(db, a)
    assert r.post(f"{BASE}/statements/9/restore").status_code == 302
    doc = draft(db, a)
    assert doc["principles"][-1]["id"] == "p9" and 9 not in {e["tid"] for e in doc["excluded"]}
    assert doc["principles"][-1]["theme"] in {t["id"] for t in doc["themes"]}
    assert doc["review"][-1]["action"] == "restore" and len(doc["principles"]) == len(before["principles"]) + 1
