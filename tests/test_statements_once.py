"""Duplicate statements are refused by a unique index, and seeding is one transaction (issue 14)."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from assembly.facilitation import rules as facilitation_rules
from assembly.facilitation.rules import Seed, seed_statements
from assembly.models import Statement
from assembly.texts import text_key
from assembly.voting import rules as voting_rules
from assembly.voting.rules import AssemblyError, add_statement, create_participant


def count(db, *where) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Statement).where(*where)).one()


def test_the_duplicate_check_is_one_indexed_lookup(db, assembly):
    """Was: every statement of the assembly loaded and normalised for each new one (14 s for 500 lines)."""
    statements = []

    @event.listens_for(db.get_bind(), "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    try:
        with pytest.raises(AssemblyError) as refused:
            add_statement(db, assembly, "build MORE bike lanes!!", is_seed=True)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", _record)
    assert refused.value.status == 409 and "#0" in refused.value.message
    lookups = [s for s in statements if "FROM statement" in s]
    assert len(lookups) == 1 and "text_key" in lookups[0]
    stored = db.exec(select(Statement).where(Statement.tid == 0)).one()
    assert stored.text_key == text_key("Build more bike lanes.")


def test_two_identical_concurrent_posts_store_one_and_refuse_the_other(app, db, assembly, monkeypatch):
    """Was: both passed the check before either was stored. Both threads now pass the check together."""
    a, b = create_participant(db, assembly), create_participant(db, assembly)
    passed = threading.Barrier(2, timeout=20)
    check = voting_rules.find_duplicate

    waited: set[int] = set()

    def find_then_wait(*args, **kwargs):
        found = check(*args, **kwargs)
        me = threading.get_ident()
        if threading.current_thread() is not threading.main_thread() and me not in waited:
            waited.add(me)
            with contextlib.suppress(threading.BrokenBarrierError):
                passed.wait()  # both have seen no duplicate before either inserts
        return found

    monkeypatch.setattr(voting_rules, "find_duplicate", find_then_wait)
    statuses: list[int] = []

    def post(token: str) -> None:
        client = app.test_client()
        r = client.post("/api/assemblies/town/statements", json={"text": "Open a night market."},
                        headers={"Authorization": f"Bearer {token}"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=post, args=(p.token,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201, 409] and not passed.broken
    assert count(db, Statement.text == "Open a night market.") == 1


def test_api_seed_failing_midway_leaves_nothing(app, db, assembly, monkeypatch):
    """Was: each seed was committed on its own, so a failure at the 3rd of 5 kept the first two."""
    before = count(db)
    calls = {"n": 0}
    insert = facilitation_rules.insert_statement

    def fail_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return insert(*args, **kwargs)

    monkeypatch.setattr(facilitation_rules, "insert_statement", fail_third)
    seeds = [Seed(text=f"Seed number {i}.", line=i) for i in range(5)]
    with pytest.raises(RuntimeError):
        seed_statements(db, assembly, seeds, all_or_none=True)
    assert count(db) == before
    with Session(app.extensions["assembly_engine"]) as fresh:
        assert fresh.exec(select(func.count()).select_from(Statement)).one() == before


def test_api_seed_is_one_transaction_and_one_signal(db, assembly):
    from assembly.signals import votes_changed

    sent = []
    votes_changed.connect(sent.append, weak=False)
    try:
        result = seed_statements(db, assembly, [Seed(text=f"Seed {i}.", line=i) for i in range(300)],
                                 all_or_none=True)
    finally:
        votes_changed.disconnect(sent.append)
    assert [s.tid for s in result.added] == list(range(3, 303)) and sent == [assembly.id]
    with pytest.raises(AssemblyError, match="already in the assembly"):
        seed_statements(db, assembly, [Seed(text="New one.", line=0), Seed(text="seed 7", line=1)],
                        all_or_none=True)
    assert count(db) == 303


def test_moderation_is_one_domain_function_that_signals(client, db, assembly):
    from assembly.signals import moderation_changed

    sent = []
    moderation_changed.connect(sent.append, weak=False)
    try:
        statement = facilitation_rules.moderate_statement(db, assembly, 1, is_meta=True)
        with pytest.raises(AssemblyError) as missing:
            facilitation_rules.moderate_statement(db, assembly, 99, is_meta=True)
    finally:
        moderation_changed.disconnect(sent.append)
    assert statement.is_meta and missing.value.status == 404 and sent == [assembly.id]
