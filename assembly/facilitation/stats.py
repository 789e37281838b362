"""Live counts for the facilitator pages: participants, votes, statements by state, votes per day.

One grouped query per figure for any number of assemblies, so the home page
costs the same whether a facilitator has one assembly or fifty.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from assembly.models import Moderation, Participant, Statement, Vote

DAY_MS = 86_400_000


@dataclass
class AssemblyCounts:
    """What a facilitator watches while an assembly runs."""

    participants: int = 0
    vote_events: int = 0
    # Latest vote per (participant, statement): what clustering sees; events also count changes of mind.
    latest_votes: int = 0
    statements: dict[str, int] = field(default_factory=lambda: {m.value: 0 for m in Moderation})
    meta: int = 0

    @property
    def statements_total(self) -> int:
        return sum(self.statements.values())


def counts_for(db: Session, assembly_ids: list[int]) -> dict[int, AssemblyCounts]:
    """{assembly_id: AssemblyCounts} for every id given (zeros where nothing happened yet)."""
    out = {aid: AssemblyCounts() for aid in assembly_ids}
    if not assembly_ids:
        return out
    rows = db.exec(
        select(Participant.assembly_id, func.count()).where(Participant.assembly_id.in_(assembly_ids))
        .group_by(Participant.assembly_id)
    )
    for aid, n in rows:
        out[aid].participants = n
    rows = db.exec(
        select(Vote.assembly_id, func.count()).where(Vote.assembly_id.in_(assembly_ids)).group_by(Vote.assembly_id)
    )
    for aid, n in rows:
        out[aid].vote_events = n
    pairs = (
        select(Vote.assembly_id)
        .where(Vote.assembly_id.in_(assembly_ids))
        .group_by(Vote.assembly_id, Vote.participant_id, Vote.statement_id)
        .subquery()
    )
    for aid, n in db.exec(select(pairs.c.assembly_id, func.count()).group_by(pairs.c.assembly_id)):
        out[aid].latest_votes = n
    rows = db.exec(
        select(Statement.assembly_id, Statement.moderation, func.count())
        .where(Statement.assembly_id.in_(assembly_ids))
        .group_by(Statement.assembly_id, Statement.moderation)
    )
    for aid, state, n in rows:
        out[aid].statements[Moderation(state).value] = n
    rows = db.exec(
        select(Statement.assembly_id, func.count())
        .where(Statement.assembly_id.in_(assembly_ids), Statement.is_meta == True)  # noqa: E712
        .group_by(Statement.assembly_id)
    )
    for aid, n in rows:
        out[aid].meta = n
    return out


@dataclass(frozen=True)
class DayBar:
    """One bar of the votes-per-day chart, with its geometry precomputed for the SVG."""

    day: date
    votes: int
    x: float
    height: float


@dataclass(frozen=True)
class DayChart:
    bars: list[DayBar]
    max_votes: int
    width: int
    height: int
    bar_width: float


def votes_per_day(db: Session, assembly_id: int, *, days: int = 30, today: date | None = None) -> dict[date, int]:
    """{UTC day: vote events} for the last `days` days up to `today`, zeros included."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    first_ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    day_number = Vote.created_ms // DAY_MS
    rows = db.exec(
        select(day_number, func.count())
        .where(Vote.assembly_id == assembly_id, Vote.created_ms >= first_ms)
        .group_by(day_number)
    )
    by_day: dict[date, int] = defaultdict(int)
    epoch = date(1970, 1, 1)
    for number, n in rows:
        by_day[epoch + timedelta(days=int(number))] += n
    return {first + timedelta(days=i): by_day.get(first + timedelta(days=i), 0) for i in range(days)}


def day_chart(per_day: dict[date, int], *, width: int = 600, height: int = 120) -> DayChart:
    """Bar geometry for an inline SVG drawn by the template (no JavaScript chart library)."""
    top = max(per_day.values(), default=0)
    slot = width / max(len(per_day), 1)
    usable = height - 14  # headroom for the value printed above the tallest bar
    bars = [
        DayBar(day=d, votes=n, x=round(i * slot, 2), height=round(usable * n / top, 2) if top else 0.0)
        for i, (d, n) in enumerate(sorted(per_day.items()))
    ]
    return DayChart(bars=bars, max_votes=top, width=width, height=height, bar_width=round(slot * 0.8, 2))
