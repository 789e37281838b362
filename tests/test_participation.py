"""Core participation rules: votes, statements, participants, without the web layer."""

from __future__ import annotations

import pytest
from sqlmodel import select

from assembly.models import Moderation, Vote
from assembly.texts import normalize_text
from assembly.voting.latest_votes import latest_votes
from assembly.voting.rules import (
    AssemblyError,
    add_statement,
    create_participant,
    record_vote,
    vote_by_token,
)


def test_latest_vote_counts_and_events_are_kept(db, assembly):
    p = create_participant(db, assembly)
    record_vote(db, assembly, p, 0, 1)
    record_vote(db, assembly, p, 0, -1)
    record_vote(db, assembly, p, 1, 0)
    events = db.exec(select(Vote).where(Vote.participant_id == p.id)).all()
    assert [e.value for e in events] == [1, -1, 0]
    latest = latest_votes(db, assembly.id)
    assert sorted(latest.values()) == [-1, 0]


@pytest.mark.parametrize("value", [2, -2, True, "1", None])
def test_bad_vote_values_are_rejected_and_store_nothing(db, assembly, value):
    p = create_participant(db, assembly)
    with pytest.raises(AssemblyError):
        record_vote(db, assembly, p, 0, value)
    assert db.exec(select(Vote)).all() == []


def test_vote_on_unknown_statement_is_404(db, assembly):
    p = create_participant(db, assembly)
    with pytest.raises(AssemblyError) as err:
        record_vote(db, assembly, p, 99, 1)
    assert err.value.status == 404


def test_closed_assembly_refuses_votes(db, assembly):
    p = create_participant(db, assembly)
    assembly.is_open = False
    db.add(assembly)
    db.commit()
    with pytest.raises(AssemblyError) as err:
        record_vote(db, assembly, p, 0, 1)
    assert err.value.status == 409


def test_participant_numbers_are_sequential(db, assembly):
    pids = [create_participant(db, assembly).pid for _ in range(3)]
    assert pids == [0, 1, 2]


def test_author_statement_gets_agree_vote_and_waits_in_strict_mode(db, assembly):
    assembly.strict_moderation = True
    db.add(assembly)
    db.commit()
    p = create_participant(db, assembly)
    st = add_statement(db, assembly, "  More   buses at night. ", author=p)
    assert st.text == "More buses at night."
    assert st.moderation == Moderation.pending
    assert latest_votes(db, assembly.id, p.id) == {(p.id, st.id): 1}


def test_duplicate_and_overlong_statements_are_refused(db, assembly):
    p = create_participant(db, assembly)
    with pytest.raises(AssemblyError, match="already"):
        add_statement(db, assembly, "build more BIKE lanes!", author=p)
    with pytest.raises(AssemblyError, match="at most 280"):
        add_statement(db, assembly, "x" * 281, author=p)
    with pytest.raises(AssemblyError, match="empty"):
        add_statement(db, assembly, "   ", author=p)


def test_normalize_text_handles_width_and_case():
    assert normalize_text("ＡＢＣ，  abc!") == normalize_text("abc abc")


def test_xid_allow_list(app, db, assembly):
    from assembly.invitations import key_for
    from assembly.models import XidAllow

    assembly.xid_required = True
    db.add(assembly)
    alice = XidAllow(assembly_id=assembly.id, xid="alice")
    db.add(alice)
    db.commit()
    with app.app_context():  # invite keys are signed with the app's secret
        with pytest.raises(AssemblyError) as err:
            create_participant(db, assembly, xid="mallory")
        assert err.value.status == 403
        with pytest.raises(AssemblyError):
            create_participant(db, assembly, xid="alice")  # the id alone is no invitation
        a1 = create_participant(db, assembly, xid="alice", invite=key_for(alice))
        assert create_participant(db, assembly, xid="alice", invite=key_for(alice)).id == a1.id


def test_a_known_xid_cannot_be_claimed_where_ids_are_not_invitations(db, assembly):
    first = create_participant(db, assembly, xid="alice@example.org")
    with pytest.raises(AssemblyError) as err:
        create_participant(db, assembly, xid="alice@example.org")
    assert err.value.status == 409
    assert first.token.startswith("pt_")


@pytest.mark.parametrize("tid", [10**20, -1])
def test_out_of_range_statement_ids_are_404_not_a_crash(db, assembly, tid):
    p = create_participant(db, assembly)
    with pytest.raises(AssemblyError) as err:
        record_vote(db, assembly, p, tid, 1)
    assert err.value.status == 404


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("is_open", [True, False])
@pytest.mark.parametrize("moderation", list(Moderation))
@pytest.mark.parametrize("own", [False, True])
def test_one_statement_vote_follows_the_same_rules_as_record_vote(db, assembly, strict, is_open, moderation, own):
    """vote_by_token (the API's hot path) accepts exactly the votes record_vote accepts, and stores them alike."""
    author, voter = create_participant(db, assembly), create_participant(db, assembly)
    st = add_statement(db, assembly, "Buses every ten minutes", author=author)
    st.moderation = moderation
    assembly.strict_moderation, assembly.is_open = strict, is_open
    db.add_all([st, assembly])
    db.commit()
    who = author if own else voter
    before = db.exec(select(Vote)).all()
    with db.get_bind().begin() as conn:
        fast = vote_by_token(conn, assembly.slug, who.token, st.tid, -1)
    try:
        slow = record_vote(db, assembly, who, st.tid, -1)
    except AssemblyError:
        slow = None
    assert (fast is None) == (slow is None)
    if fast is not None:
        stored = db.get(Vote, fast.id)
        assert (stored.participant_id, stored.statement_id, stored.value, stored.created_ms) == (
            who.id, st.id, -1, fast.created_ms)
        assert fast.id != slow.id
    assert len(db.exec(select(Vote)).all()) == len(before) + 2 * (fast is not None)


def test_one_statement_vote_refuses_wrong_assembly_token_and_tid(db, assembly):
    p = create_participant(db, assembly)
    with db.get_bind().begin() as conn:
        assert vote_by_token(conn, "elsewhere", p.token, 0, 1) is None
        assert vote_by_token(conn, assembly.slug, "pt_unknown", 0, 1) is None
        assert vote_by_token(conn, assembly.slug, p.token, 99, 1) is None
        assert vote_by_token(conn, assembly.slug, p.token, 2**64, 1) is None
        with pytest.raises(AssemblyError):
            vote_by_token(conn, assembly.slug, p.token, 0, True)
        assert vote_by_token(conn, assembly.slug, p.token, 0, 1) is not None
    assert len(db.exec(select(Vote)).all()) == 1
