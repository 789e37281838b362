"""JSON API: the next statement, votes (the hot path) and results."""

from __future__ import annotations

from collections import Counter

from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import func
from sqlmodel import select

from assembly.api_access import is_owner, participant_call, require_participant
from assembly.assemblies import get_assembly
from assembly.db import get_engine, get_session
from assembly.models import AGREE, DISAGREE, Participant, Statement, Vote
from assembly.results.disclosure import disclosure, public_result
from assembly.results.runs import latest_run, result_of
from assembly.schemas import ERROR_RESPONSES, MyVotes, NextOut, ResultsOut, SlugPath, VoteIn, VoteOut
from assembly.security import limiter, votes_limit
from assembly.tokens import TokenKind, bearer_of
from assembly.voting.latest_votes import latest_vote_ids, latest_votes
from assembly.voting.next_statement import next_with_progress
from assembly.voting.rules import (
    check_vote,
    record_vote,
    visible,
    vote_by_token,
    votes_changed,
)

bp = APIBlueprint("api_voting", __name__, abp_tags=[Tag(name="voting")], abp_responses=ERROR_RESPONSES)

PARTICIPANT = [{"participantToken": []}, {"cookieSession": []}]
ANYONE = [*PARTICIPANT, {"facilitatorToken": []}, {}]


@bp.get(
    "/assemblies/<slug>/next",
    summary="The next statement for this participant, with progress",
    responses={200: NextOut},
    security=[*PARTICIPANT, {}],
)
def next_for_me(path: SlugPath):
    db = get_session()
    assembly, me = participant_call(db, path.slug, create=False)
    statement, voted, total = next_with_progress(db, assembly, me, pick=assembly.is_open)
    out = None
    if statement is not None:
        out = {
            "tid": statement.tid, "text": statement.text, "is_seed": statement.is_seed,
            "is_meta": statement.is_meta, "created_ms": statement.created_ms, "mine": False,
        }
    return {"statement": out, "progress": {"voted": voted, "total": total}, "is_open": assembly.is_open}


@bp.post(
    "/assemblies/<slug>/votes",
    summary="Vote; answers 201 only after the vote is committed",
    responses={201: VoteOut},
    security=PARTICIPANT,
)
@limiter.limit(votes_limit)
def cast_vote(path: SlugPath, body: VoteIn):
    vote = None
    token = bearer_of(TokenKind.participant)
    if token is not None:
        # Hot path: a token holder's vote is one INSERT ... SELECT and a commit.
        with get_engine().begin() as conn:
            vote = vote_by_token(conn, path.slug, token, body.tid, body.vote)
        if vote is not None:
            votes_changed.send(vote.assembly_id)
    if vote is None:
        # Cookie callers, newcomers, and refusals, which this path explains.
        db = get_session()
        assembly, me = require_participant(
            db, path.slug, create=True, before_create=lambda a: check_vote(db, a, body.tid, body.vote)
        )
        vote = record_vote(db, assembly, me, body.tid, body.vote)
    return {"id": vote.id, "tid": body.tid, "vote": vote.value, "created_ms": vote.created_ms}, 201


@bp.get("/assemblies/<slug>/votes/me", summary="My latest vote per statement", responses={200: MyVotes},
        security=PARTICIPANT)
def my_latest_votes(path: SlugPath):
    db = get_session()
    assembly, me = require_participant(db, path.slug, create=False)
    rows = db.exec(
        select(Vote.id, Statement.tid, Vote.value, Vote.created_ms)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.id.in_(latest_vote_ids(assembly.id, me.id)))
        .order_by(Statement.tid)
    )
    return {"votes": [{"id": i, "tid": t, "vote": v, "created_ms": c} for i, t, v, c in rows]}


@bp.get(
    "/assemblies/<slug>/results",
    summary="Per-statement counts from the latest votes, participants and vote events",
    responses={200: ResultsOut},
    security=ANYONE,
)
def results(path: SlugPath):
    db = get_session()
    assembly = get_assembly(db, path.slug)
    owner = is_owner(db, assembly)
    statements = list(db.exec(select(Statement).where(Statement.assembly_id == assembly.id).order_by(Statement.tid)))
    counts: dict[int, Counter] = {s.id: Counter() for s in statements}
    for (_pid, sid), value in latest_votes(db, assembly.id).items():
        counts[sid][value] += 1
    participants = db.exec(select(func.count()).select_from(Participant).where(Participant.assembly_id == assembly.id))
    events = db.exec(select(func.count()).select_from(Vote).where(Vote.assembly_id == assembly.id))
    rows = []
    for s in statements:
        if not owner and not visible(s, assembly):
            continue
        c = counts[s.id]
        row = {
            "tid": s.tid, "text": s.text, "is_meta": s.is_meta,
            "agree": c[AGREE], "disagree": c[DISAGREE], "pass": c[0], "seen": sum(c.values()),
        }
        if owner:
            row["moderation"] = s.moderation
        rows.append(row)
    return {
        "assembly": assembly.slug,
        "participants": participants.one(),
        "vote_events": events.one(),
        "statements": rows,
        "clustering": _clustering(db, assembly.id),
    }


def _clustering(db, assembly_id: int) -> dict | None:
    """The newest clustering run: its provenance and result; None before the first run.

    Per-group figures are left out until every group has RESULTS_MIN_GROUP_SIZE participants
    (`groups_hidden` then says so), as on the results page.
    """
    run = latest_run(db, assembly_id)
    if run is None:
        return None
    result = result_of(run)
    return {
        "run_id": run.id,
        "created_at": run.created_at.isoformat(),
        "n_participants": run.n_participants,
        "n_votes": run.n_votes,
        "vote_snapshot_hash": run.vote_snapshot_hash,
        "device": run.device,
        "seconds": run.seconds,
        "result": public_result(result, disclosure(result)),
    }
