"""What facilitators do to an assembly's statements: seed them in bulk and moderate them.

Domain functions shared by the facilitator pages and the JSON API. Each owns its
transaction (nothing is half-written: a failure rolls back everything it staged) and
sends the change signal after the commit, so no view has to remember either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assembly.models import Assembly, Moderation, Participant, Statement, utcnow
from assembly.signals import moderation_changed, votes_changed
from assembly.texts import text_key
from assembly.voting.rules import (
    AssemblyError,
    clean_statement_text,
    duplicate_error,
    find_duplicates,
    insert_statement,
    next_tid,
)

SEED_MAX = 1000  # statements per seeding request, in the form and the API alike


@dataclass(frozen=True)
class Seed:
    """One statement to seed; `line` is where it came from (a 1-based line, or a list index)."""

    text: str
    line: int
    is_meta: bool = False


@dataclass
class SeedResult:
    added: list[Statement] = field(default_factory=list)
    rejected: list[tuple[Seed, AssemblyError]] = field(default_factory=list)


def _check(db: Session, assembly: Assembly, seeds: list[Seed]) -> tuple[list[tuple[Seed, str]], SeedResult]:
    """(seeds that may be added with their cleaned text, the result so far with every refused seed)."""
    result = SeedResult()
    if not seeds:
        raise AssemblyError("the list of statements is empty")
    if len(seeds) > SEED_MAX:
        raise AssemblyError(f"at most {SEED_MAX} statements per request")
    first: dict[str, Seed] = {}
    cleaned: list[tuple[Seed, str, str]] = []
    for seed in seeds:
        try:
            text = clean_statement_text(seed.text, assembly.statement_max_length)
            key = text_key(text)
            if key in first:
                raise AssemblyError(f"statements {first[key].line} and {seed.line} in this list are the same", 409)
            first[key] = seed
        except AssemblyError as exc:
            result.rejected.append((seed, exc))
            continue
        cleaned.append((seed, text, key))
    existing = find_duplicates(db, assembly, [text for _, text, _ in cleaned])  # one query for the whole list
    ok: list[tuple[Seed, str]] = []
    for seed, text, key in cleaned:
        if key in existing:
            result.rejected.append((seed, duplicate_error(existing[key], f"statement {seed.line}")))
        else:
            ok.append((seed, text))
    order = {id(seed): i for i, seed in enumerate(seeds)}
    result.rejected.sort(key=lambda pair: order[id(pair[0])])  # in the list's order, as before
    return ok, result


def seed_statements(db: Session, assembly: Assembly, seeds: list[Seed], *, all_or_none: bool) -> SeedResult:
    """Add seed statements in one transaction, then signal once.

    `all_or_none` (the API): any refused seed raises its AssemblyError and nothing is added.
    Otherwise (the seed form) the good ones are added and the refused ones come back with
    their reasons, to fix and send again. Either way a failure while writing adds nothing.
    """
    for _attempt in range(20):
        ok, result = _check(db, assembly, seeds)
        if all_or_none and result.rejected:
            raise result.rejected[0][1]
        if not ok:
            return result
        try:
            tid = next_tid(db, assembly)
            for i, (seed, text) in enumerate(ok):
                result.added.append(insert_statement(db, assembly, text, tid=tid + i, is_seed=True,
                                                     is_meta=seed.is_meta))
            db.commit()
        except IntegrityError:
            db.rollback()  # a concurrent statement took a tid or the same text: check again, from nothing
            continue
        except BaseException:
            db.rollback()
            raise
        votes_changed.send(assembly.id)
        return result
    raise AssemblyError("too many statements were added at once; please try again", 503)


def get_statement(db: Session, assembly: Assembly, tid: int) -> Statement:
    statement = db.exec(select(Statement).where(Statement.assembly_id == assembly.id, Statement.tid == tid)).first()
    if statement is None:
        raise AssemblyError(f"no statement {tid} in this assembly", 404)
    return statement


def moderate_statement(
    db: Session, assembly: Assembly, tid: int, *, moderation: Moderation | None = None, is_meta: bool | None = None
) -> Statement:
    """Set a statement's moderation and/or meta flag, commit, and signal (clustering zeroes both kinds)."""
    statement = get_statement(db, assembly, tid)
    if moderation is not None:
        statement.moderation = moderation
    if is_meta is not None:
        statement.is_meta = is_meta
    db.add(statement)
    db.commit()
    moderation_changed.send(assembly.id)
    return statement


BULK_MAX = 500  # statements per bulk moderation request


def moderate_many(db: Session, assembly: Assembly, tids: list[int], moderation: Moderation) -> list[Statement]:
    """Set the moderation of several statements in one transaction: all of them, or none if one is unknown."""
    if not tids:
        raise AssemblyError("choose at least one statement")
    if len(tids) > BULK_MAX:
        raise AssemblyError(f"at most {BULK_MAX} statements at a time")
    wanted = sorted(set(tids))
    rows = list(db.exec(select(Statement).where(Statement.assembly_id == assembly.id, Statement.tid.in_(wanted))))
    missing = sorted(set(wanted) - {s.tid for s in rows})
    if missing:
        raise AssemblyError(f"no statement {missing[0]} in this assembly", 404)
    for statement in rows:
        statement.moderation = moderation
        db.add(statement)
    db.commit()
    moderation_changed.send(assembly.id)
    return sorted(rows, key=lambda s: s.tid)


def set_blocked(db: Session, assembly: Assembly, pid: int, blocked: bool) -> Participant:
    """Block or unblock participant `pid`: their statements and votes stay stored, but leave the groups.

    Whether someone counts changes what clustering sees, hence the moderation signal.
    """
    participant = db.exec(select(Participant).where(Participant.assembly_id == assembly.id,
                                                    Participant.pid == pid)).first()
    if participant is None:
        raise AssemblyError(f"no participant {pid} in this assembly", 404)
    if blocked and participant.blocked_at is None:
        participant.blocked_at = utcnow()
    elif not blocked:
        participant.blocked_at = None
    db.add(participant)
    db.commit()
    moderation_changed.send(assembly.id)
    return participant
