"""Rules written once: each test here pins a disagreement between copies that issue 14 found."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.conftest import make_town_app


def test_babel_default_locale_comes_from_the_config(database_url):
    """Was: i18n read BABEL_DEFAULT_LOCALE from request.environ, so pages said lang="en" anyway."""
    app = make_town_app(database_url, BABEL_DEFAULT_LOCALE="zh_Hant_TW")
    html = app.test_client().get("/a/town").get_data(as_text=True)
    assert re.search(r'<html lang="zh-Hant-TW"', html), html[:200]
    # The browser's language still comes first.
    html = app.test_client().get("/a/town", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en"' in html


@pytest.mark.parametrize("path", ["/a/town/results", "/a/town", "/"])
def test_every_page_says_it_varies_with_hx_request(client, assembly, path):
    """Was: Vary on the participant blueprint only, so /a/SLUG/results' fragment was cacheable as the page."""
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 200
    assert "HX-Request" in page.headers.get("Vary", "") and "HX-Request" in fragment.headers.get("Vary", "")


def test_results_page_and_fragment_differ_by_hx_request(client, assembly):
    page = client.get("/a/town/results").get_data(as_text=True)
    fragment = client.get("/a/town/results", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in page and "<html" not in fragment


def test_one_visibility_rule_for_every_path(app, client, db):
    """Was: four copies (participation.visible, routing, the fast vote path's SQL, the assemblies API).

    Every (moderation, author, strict) case is asked of each path; all must give the predicate's answer.
    """
    from sqlalchemy import select as sa_select

    from assembly.db import get_engine
    from assembly.models import Assembly, Moderation, Statement, Vote
    from assembly.voting.next_statement import next_with_progress
    from assembly.voting.rules import (
        AssemblyError,
        create_participant,
        may_vote,
        may_vote_clause,
        record_vote,
        visible,
        visible_clause,
        vote_by_token,
    )

    for strict in (False, True):
        a = Assembly(slug=f"vis-{int(strict)}", title="V", strict_moderation=strict)
        db.add(a)
        db.commit()
        me, other = create_participant(db, a), create_participant(db, a)
        cases = [(m, author) for m in Moderation for author in (None, me.id, other.id)]
        for tid, (m, author) in enumerate(cases):
            db.add(Statement(assembly_id=a.id, tid=tid, text=f"S {tid}", moderation=m, author_id=author))
        db.commit()
        rows = {s.tid: s for s in db.exec(sa_select(Statement).where(Statement.assembly_id == a.id)).scalars()}
        by_sql = set(db.exec(sa_select(Statement.tid).where(
            Statement.assembly_id == a.id, may_vote_clause(strict, me.id))).scalars())
        seen_sql = set(db.exec(sa_select(Statement.tid).where(
            Statement.assembly_id == a.id, visible_clause(strict))).scalars())
        expected = {t for t, s in rows.items() if may_vote(s, a, me.id)}
        assert by_sql == expected and seen_sql == {t for t, s in rows.items() if visible(s, a)}

        listed = client.get(f"/api/assemblies/{a.slug}/statements",
                            headers={"Authorization": f"Bearer {me.token}"}).json["statements"]
        assert {s["tid"] for s in listed} == {t for t in expected if rows[t].moderation != Moderation.rejected}
        _statement, _voted, total = next_with_progress(db, a, me, pick=False)
        assert total == len(seen_sql)

        for tid, s in rows.items():
            with app.app_context(), get_engine().begin() as conn:
                fast = vote_by_token(conn, a.slug, me.token, tid, 1)
            assert (fast is not None) is (tid in expected), (strict, s.moderation, s.author_id)
            try:
                record_vote(db, a, me, tid, -1)
                slow = True
            except AssemblyError as exc:
                assert exc.status == 409
                slow = False
            assert slow is (tid in expected)
        voted = set(db.exec(sa_select(Vote.statement_id).where(Vote.participant_id == me.id)).scalars())
        assert {rows[t].id for t in expected} == voted


def test_one_latest_vote_reduction_and_one_digest(client, db, assembly):
    """Was: five reductions and two digests (vote_snapshot, constitution/build), never compared."""
    import csv

    from assembly.constitution.build import gather, vote_snapshot
    from assembly.models import Participant, Statement
    from assembly.polis.export import export_files
    from assembly.results.vote_snapshot import load_snapshot
    from assembly.voting.latest_votes import latest_votes
    from assembly.voting.rules import create_participant, record_vote

    people = [create_participant(db, assembly) for _ in range(3)]
    for who, tid, value in [(0, 0, 1), (0, 0, -1), (1, 1, 0), (1, 1, 1), (2, 2, -1), (0, 1, 1), (2, 2, 0), (0, 0, 1)]:
        record_vote(db, assembly, people[who], tid, value)
    pid_of = {p.id: p.pid for p in db.exec(select(Participant)).all()}
    tid_of = {s.id: s.tid for s in db.exec(select(Statement)).all()}
    expected = {(pid_of[p], tid_of[s]): v for (p, s), v in latest_votes(db, assembly.id).items()}
    assert expected == {(people[0].pid, 0): 1, (people[1].pid, 1): 1, (people[2].pid, 2): 0, (people[0].pid, 1): 1}

    snap = load_snapshot(db, assembly.id)
    assert snap.as_dict() == expected
    _statements, votes, _n, _events = gather(db, assembly)
    assert votes == expected
    assert vote_snapshot(votes) == {"count": 4, "sha256": snap.digest()}  # the constitution names the same snapshot

    matrix = list(csv.DictReader(export_files(db, assembly)["participants-votes.csv"].splitlines()))
    exported = {(int(r["participant"]), t): int(r[str(t)]) for r in matrix for t in (0, 1, 2) if r[str(t)] != ""}
    assert exported == expected

    mine = client.get("/api/assemblies/town/votes/me", headers={"Authorization": f"Bearer {people[0].token}"}).json
    assert {(people[0].pid, v["tid"]): v["vote"] for v in mine["votes"]} == {
        k: v for k, v in expected.items() if k[0] == people[0].pid}


def test_every_module_is_at_most_400_lines():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    too_long = {str(p.relative_to(root)): n for folder in ("assembly", "clustering")
                for p in (root / folder).rglob("*.py") if "migrations" not in p.parts
                and (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not too_long, f"split these modules (the project's limit is 400 lines): {too_long}"
