"""Facilitator review, publishing, public pages and the `flask constitution` commands."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from sqlmodel import Session, select

from app import create_app
from assembly.auth import create_facilitator
from assembly.constitution.build import build_draft, current_draft
from assembly.constitution.versions import load
from assembly.migrate import upgrade
from assembly.models import Facilitator, Participant
from assembly.models_constitution import ConstitutionVersion, ImmutableVersionError
from assembly.voting.rules import create_participant, record_vote
from tests.conftest import FACILITATOR_EMAIL, ROOT, log_in
from tests.constitution_loader import planted_assembly

INFO = {"method": "planted", "parameters": {}}
BASE = "/facilitate/planted/constitution"
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _ngrams(monkeypatch):
    # The sentence model is exercised in test_constitution_candidates; n-grams keep these tests fast.
    monkeypatch.setenv("CONSTITUTION_SIMILARITY", "char-ngram-tfidf")


@pytest.fixture
def owner(db) -> Facilitator:
    return db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()


@pytest.fixture
def planted(db, owner):
    return planted_assembly(db, owner_id=owner.id)


@pytest.fixture
def drafted(app, db, planted):
    a, groups = planted
    with app.app_context():  # reads CONSTITUTION_SIMILARITY from the app's settings
        build_draft(db, a, groups, INFO)
    return a, groups


class Reviewer:
    """A logged-in facilitator's browser: session cookie plus the CSRF token from the review page."""

    def __init__(self, client, facilitator_id: int) -> None:
        self.client = client
        log_in(client, facilitator_id)
        page = client.get("/auth/login").get_data(as_text=True)
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path: str, data: dict | None = None, htmx: bool = False):
        if htmx:
            return self.client.post(path, data=data or {}, headers={**HX, "X-CSRFToken": self.token})
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token})


@pytest.fixture
def reviewer(client, owner, planted) -> Reviewer:
    return Reviewer(client, owner.id)


def draft_doc(db, a):
    db.expire_all()
    return load(current_draft(db, a))


def test_review_needs_login_and_ownership(client, db, owner, planted):
    assert client.get(BASE).status_code == 302
    other = create_facilitator(db, "other@example.org", "another long password")
    stranger = Reviewer(client, other.id)
    assert client.get(BASE).status_code == 403
    assert stranger.post(f"{BASE}/publish").status_code == 403
    Reviewer(client, owner.id)
    assert client.get(BASE).status_code == 200


def test_build_without_clustering_explains_what_to_do(reviewer, db, planted):
    r = reviewer.post(f"{BASE}/build")
    assert r.status_code == 409
    assert "no clustering yet: run `flask cluster planted` first" in r.get_data(as_text=True)
    assert current_draft(db, planted[0]) is None


def test_review_edits_plain_and_htmx(client, db, drafted, reviewer):
    a, _groups = drafted
    page = client.get(BASE).get_data(as_text=True)
    assert "p0" in page and "Choose the response that" in page
    # User text is escaped wherever it appears.
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page

    r = reviewer.post(f"{BASE}/principles/p0/wording", {"wording": "Choose the response that protects water."})
    assert r.status_code == 302
    doc = draft_doc(db, a)
    assert doc["principles"][0]["training_form"] == "Choose the response that protects water."
    assert doc["principles"][0]["text"] == "Everyone should have access to clean drinking water."  # verbatim

    before = draft_doc(db, a)
    r = reviewer.post(f"{BASE}/principles/p0/move", {"position": "99"}, htmx=True)
    assert r.status_code == 400 and "from 1 to" in r.get_data(as_text=True)
    assert draft_doc(db, a)["principles"] == before["principles"]  # refused changes nothing

    ids = [p["id"] for p in before["principles"]]
    r = reviewer.post(f"{BASE}/principles/{ids[-1]}/move", {"position": "1"}, htmx=True)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<section id="draft"') and "<html" not in body
    assert draft_doc(db, a)["principles"][0]["id"] == ids[-1]


def test_merge_split_exclude(db, drafted, reviewer):
    a, _groups = drafted
    ids = [p["id"] for p in draft_doc(db, a)["principles"]]
    assert "p6" in ids
    reviewer.post(f"{BASE}/principles/p0/merge", {"other": "p6"})
    doc = draft_doc(db, a)
    p0 = next(p for p in doc["principles"] if p["id"] == "p0")
    assert 6 in [s["tid"] for s in p0["statements"]] and "p6" not in [p["id"] for p in doc["principles"]]
    assert any(m["tid"] == 6 and m["method"] == "facilitator" for m in p0["merged"])  # shown, not silent

    reviewer.post(f"{BASE}/principles/p0/split", {"tid": "6"})
    doc = draft_doc(db, a)
    assert {"p0", "p6"} <= {p["id"] for p in doc["principles"]}

    r = reviewer.post(f"{BASE}/principles/p6/exclude", {"reason": "   "})
    assert r.status_code == 400
    reviewer.post(f"{BASE}/principles/p6/exclude", {"reason": "Out of scope for a chatbot"})
    doc = draft_doc(db, a)
    ex = next(e for e in doc["excluded"] if e["tid"] == 6)
    assert ex["reason"] == "excluded_by_facilitator" and ex["detail"] == "Out of scope for a chatbot"
    assert [r["action"] for r in doc["review"]] == ["merge", "split", "exclude"]
    assert reviewer.post(f"{BASE}/principles/p404/exclude", {"reason": "x"}).status_code == 404


def test_publish_is_immutable_and_new_votes_make_a_new_draft(app, client, db, drafted, reviewer):
    a, groups = drafted
    r = reviewer.post(f"{BASE}/publish")  # without the confirmation box
    assert r.status_code == 400 and "tick the box to confirm" in r.get_data(as_text=True)
    assert reviewer.post(f"{BASE}/publish", {"confirm": "no"}, htmx=True).status_code == 400
    assert client.get("/a/planted/constitution/v/1.json").status_code == 404  # nothing published
    assert current_draft(db, a).status == "draft"
    r = reviewer.post(f"{BASE}/publish", {"confirm": "yes"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/a/planted/constitution/v/1")
    v1 = client.get("/a/planted/constitution/v/1.json")
    doc1 = json.loads(v1.data)
    jsonschema.validate(doc1, json.loads((ROOT / "docs/constitution.schema.json").read_text()))
    assert doc1["version"]["number"] == 1 and doc1["diff_from_previous"]["previous"] is None
    assert reviewer.post(f"{BASE}/principles/p0/wording", {"wording": "x"}).status_code == 409  # no draft left

    row = db.exec(select(ConstitutionVersion).where(ConstitutionVersion.number == 1)).one()
    row.document = "{}"
    db.add(row)
    with pytest.raises(ImmutableVersionError):
        db.commit()
    db.rollback()

    # New votes: a newcomer agrees with everything; the published version does not move.
    newcomer = create_participant(db, a)
    for tid in (0, 1, 2, 3, 4, 6, 7):
        record_vote(db, a, newcomer, tid, 1)
    with app.app_context():
        build_draft(db, a, groups, INFO)
    assert client.get("/a/planted/constitution/v/1.json").data == v1.data
    record_vote(db, a, newcomer, 0, -1)
    assert "1 vote(s) arrived after this draft was built" in client.get(BASE).get_data(as_text=True)
    reviewer.post(f"{BASE}/principles/p0/wording", {"wording": "Choose the response that keeps water clean."})
    assert reviewer.post(f"{BASE}/publish", {"confirm": "yes"}, htmx=True).headers["HX-Redirect"].endswith("/v/2")
    doc2 = json.loads(client.get("/a/planted/constitution/v/2.json").data)
    assert doc2["diff_from_previous"]["votes_after"] == doc1["process"]["vote_snapshot"]["count"] + 7
    assert doc2["process"]["vote_events"] == doc1["process"]["vote_events"] + 7  # the re-vote came later
    assert doc2["content_hash"] != doc1["content_hash"]
    assert doc2["diff_from_previous"]["reworded"] == ["p0"] and doc2["version"]["previous"] == 1
    page = client.get("/a/planted/constitution").get_data(as_text=True)
    assert "Changes since version" in page and doc2["content_hash"] in page
    md = client.get("/a/planted/constitution/v/2.md")
    assert md.mimetype == "text/markdown" and "[^1]: Statement #0" in md.get_data(as_text=True)
    assert client.get("/a/planted/constitution/v/3").status_code == 404
    assert client.get("/a/nowhere/constitution").status_code == 404


def test_forms_need_csrf(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "RATELIMIT_ENABLED": False})
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        fac = create_facilitator(db, "csrf@example.org", "a long password!")
        planted_assembly(db, owner_id=fac.id)
    client = app.test_client()
    log_in(client, fac.id)
    page = client.get(BASE).get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert client.post(f"{BASE}/build").status_code == 400


def test_cli_build_publish_export(runner, db, planted, tmp_path):
    _a, groups = planted
    r = runner.invoke(args=["constitution", "build", "planted"])
    assert r.exit_code != 0 and "no clustering yet" in r.output
    pid_of = dict(db.exec(select(Participant.id, Participant.pid)).all())
    rows = "\n".join(f"{pid_of[p]},{0 if g == 'A' else 1}" for p, g in groups.items())
    (tmp_path / "participants-votes.csv").write_text("participant,group-id\n" + rows + "\n")
    r = runner.invoke(args=["constitution", "build", "planted", "--groups-from", "polis-export", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "2 principles" in r.output
    r = runner.invoke(args=["constitution", "export", "planted", "--draft", "--format", "md"])
    assert r.exit_code == 0 and "Draft (not published)" in r.output
    assert runner.invoke(args=["constitution", "publish", "planted"]).exit_code == 0
    r = runner.invoke(args=["constitution", "export", "planted", "--format", "json", "--version", "1"])
    doc = json.loads(r.output)
    assert doc["process"]["clustering"]["method"] == "polis-export group-id"
    r = runner.invoke(args=["constitution", "export", "planted", "--version", "9"])
    assert r.exit_code != 0 and "no version 9" in r.output


def test_migration_downgrades_and_upgrades(app):
    from alembic import command
    from sqlalchemy import inspect

    from assembly.migrate import alembic_config

    engine = app.extensions["assembly_engine"]
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "constitution_version" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "constitution_version" in inspect(engine).get_table_names()


def test_review_page_in_words_and_in_the_facilitator_layout(client, db, drafted, reviewer):
    reviewer.post(f"{BASE}/principles/p6/exclude", {"reason": "Out of scope"})
    page = client.get(BASE + "?lang=zh-TW").get_data(as_text=True)
    assert "我的大會" in page and "登出" in page
    assert 'class="fac-tabs"' in page and 'aria-current="page"' in page
    assert "排除了 “Parks should be kept safe and clean for children.”，原因：Out of scope" in page
    assert "exclude p6" not in page
    # Publish sits in the bar above the principles, and the long lists are folded.
    assert page.index('id="publish-form"') < page.index('class="principles"')
    assert '<details class="long" id="not-taken">' in page
    assert f"{BASE}/statements/6/restore" in page and f"{BASE}/statements/2/restore" not in page
