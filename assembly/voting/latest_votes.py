"""The one latest-vote reduction: a participant's current vote on a statement is their newest event.

Every reader of "what people think now" (the vote snapshot, the results page, the exports, the
participant's own votes) goes through here, so there is one rule to change and to test.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from assembly.models import Vote


def latest_vote_ids(assembly_id: int, participant_id: int | None = None):
    """SELECT of the newest vote event id per (participant, statement): the one latest-vote reduction."""
    last = select(func.max(Vote.id)).where(Vote.assembly_id == assembly_id)
    if participant_id is not None:
        last = last.where(Vote.participant_id == participant_id)
    return last.group_by(Vote.participant_id, Vote.statement_id)


def latest_votes(session: Session, assembly_id: int, participant_id: int | None = None) -> dict[tuple[int, int], int]:
    """{(participant_id, statement_id): value} of the latest event per pair."""
    rows = session.exec(select(Vote.participant_id, Vote.statement_id, Vote.value)
                        .where(Vote.id.in_(latest_vote_ids(assembly_id, participant_id))))
    return {(p, s): v for p, s, v in rows}
