"""Which statement a participant sees next. One function, so clustering can plug priorities in.

Weighted random over visible statements the participant has not voted on.
Without clustering priorities the weight is Polis's priority with importance 1,
(1 + 8 * 2^(-S/5))^2 for a statement seen S times, so little-voted statements
come first, doubled for seed statements. With priorities from a clustering run
the weight is that priority (statements newer than the run get the heuristic).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from sqlalchemy import func
from sqlmodel import Session, select

from assembly.models import Assembly, Participant, Statement, Vote
from assembly.results.runs import priorities as stored_priorities
from assembly.voting.rules import visible_clause


def heuristic_weight(seen: int, is_seed: bool) -> float:
    """Polis priority with importance 1, doubled for seeds."""
    weight = (1.0 + 8.0 * 2.0 ** (-seen / 5.0)) ** 2
    return weight * (2.0 if is_seed else 1.0)


def votable_statements(session: Session, assembly: Assembly) -> list[Statement]:
    """Statements shown for voting, by tid (strict moderation shows accepted only)."""
    query = select(Statement).where(Statement.assembly_id == assembly.id, visible_clause(assembly.strict_moderation))
    return list(session.exec(query.order_by(Statement.tid)))


def seen_counts(session: Session, assembly_id: int) -> dict[int, int]:
    """{statement_id: number of participants who voted on it}."""
    rows = session.exec(
        select(Vote.statement_id, func.count(func.distinct(Vote.participant_id)))
        .where(Vote.assembly_id == assembly_id)
        .group_by(Vote.statement_id)
    )
    return dict(rows.all())


def voted_statement_ids(session: Session, participant: Participant | None) -> set[int]:
    if participant is None:
        return set()
    return set(session.exec(select(Vote.statement_id).where(Vote.participant_id == participant.id).distinct()))


def _pick(
    session: Session,
    assembly: Assembly,
    participant: Participant | None,
    statements: list[Statement],
    done: set[int],
    priorities: Mapping[int, float] | None,
    rng: random.Random | None,
) -> Statement | None:
    rng = rng or random.Random()
    if priorities is None:
        priorities = stored_priorities(session, assembly.id)
    candidates = [
        s for s in statements
        if s.id not in done and (participant is None or s.author_id != participant.id)
    ]
    if not candidates:
        return None
    # The vote counts (a GROUP BY over every vote) are needed only for statements the
    # newest clustering run has no priority for: before the first run, or newer than it.
    counts = None
    weights = []
    for s in candidates:
        if priorities is not None and s.tid in priorities:
            weights.append(max(float(priorities[s.tid]), 1e-9))
        else:
            counts = seen_counts(session, assembly.id) if counts is None else counts
            weights.append(heuristic_weight(counts.get(s.id, 0), s.is_seed))
    return rng.choices(candidates, weights=weights, k=1)[0]


def next_with_progress(
    session: Session,
    assembly: Assembly,
    participant: Participant | None,
    *,
    pick: bool = True,
    priorities: Mapping[int, float] | None = None,
    rng: random.Random | None = None,
) -> tuple[Statement | None, int, int]:
    """(next statement or None, statements voted on, statements open): one read serves the card and the bar.

    `priorities` maps statement tid -> Polis priority; by default, those of the newest clustering run.
    """
    statements = votable_statements(session, assembly)
    done = voted_statement_ids(session, participant)
    statement = _pick(session, assembly, participant, statements, done, priorities, rng) if pick else None
    return statement, sum(1 for s in statements if s.id in done), len(statements)
