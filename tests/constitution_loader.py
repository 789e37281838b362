"""A minimal Polis export loader for the constitution tests (the full importer is assembly/polis/).

Keeps Polis's numbers (voter-id -> Participant.pid, comment-id -> Statement.tid) and inserts vote
events in timestamp order, so the latest event per pair is also the one with the highest id.
"""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, select

from assembly.models import Assembly, Moderation, Participant, Statement, Vote

_MODERATION = {"1": Moderation.accepted, "-1": Moderation.rejected, "0": Moderation.pending}


def read_rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_polis(db: Session, folder: Path, slug: str, language: str, owner_id: int | None = None) -> Assembly:
    """Create an assembly from a Polis export folder: comments, participants and every vote event."""
    a = Assembly(slug=slug, title=slug, language=language, owner_id=owner_id, source=str(folder))
    db.add(a)
    db.commit()
    votes = sorted(read_rows(folder, "votes.csv"), key=lambda r: int(r["timestamp"]))
    comments = read_rows(folder, "comments.csv")
    pids = {int(r["voter-id"]) for r in votes} | {int(r["author-id"]) for r in comments}
    pids |= {int(r["participant"]) for r in read_rows(folder, "participants-votes.csv")}
    db.execute(insert(Participant), [
        {"assembly_id": a.id, "pid": pid, "token": "pt_" + secrets.token_hex(16)} for pid in sorted(pids)
    ])
    pid_to_id = {p.pid: p.id for p in db.exec(select(Participant).where(Participant.assembly_id == a.id))}
    db.execute(insert(Statement), [{
        "assembly_id": a.id, "tid": int(r["comment-id"]), "text": r["comment-body"],
        "author_id": pid_to_id[int(r["author-id"])], "is_seed": False, "is_meta": False,
        "moderation": _MODERATION[r["moderated"]], "language": language, "created_ms": int(r["timestamp"]),
    } for r in comments])
    tid_to_id = {s.tid: s.id for s in db.exec(select(Statement).where(Statement.assembly_id == a.id))}
    db.execute(insert(Vote), [{
        "assembly_id": a.id, "participant_id": pid_to_id[int(r["voter-id"])],
        "statement_id": tid_to_id[int(r["comment-id"])], "value": int(r["vote"]), "created_ms": int(r["timestamp"]),
    } for r in votes])
    db.commit()
    return a


def latest_from_csv(folder: Path) -> dict[tuple[int, int], int]:
    """{(pid, tid): value} of the latest event per pair, straight from votes.csv (independent of the DB)."""
    out: dict[tuple[int, int], int] = {}
    for r in sorted(read_rows(folder, "votes.csv"), key=lambda r: int(r["timestamp"])):
        out[int(r["voter-id"]), int(r["comment-id"])] = int(r["vote"])
    return out


def polis_groups(folder: Path) -> dict[int, int]:
    """{pid: group-id} for the participants Polis clustered."""
    return {int(r["participant"]): int(r["group-id"])
            for r in read_rows(folder, "participants-votes.csv") if r["group-id"] != ""}


# A small assembly whose right constitution is known by construction: two planted groups of ten.
PLANTED = {
    # tid: (text, votes of group A, votes of group B, moderation)
    0: ("Everyone should have access to clean drinking water.", [1] * 10, [1] * 9 + [0], "accepted"),
    1: ("Clean drinking water must be available to everyone.", [1] * 9 + [0], [1] * 10, "accepted"),
    2: ("The city should ban cars from the centre.", [1] * 10, [-1] * 9 + [1], "accepted"),
    3: ("Taxes should be raised by ten percent.", [1] * 5 + [0] * 5, [1] * 5 + [0] * 5, "accepted"),
    4: ("Libraries should stay open at night.", [1] * 2, [1], "accepted"),
    5: ("Buy cheap watches at spam dot example!", [1] * 10, [1] * 10, "rejected"),
    6: ("Parks should be kept safe and clean for children.", [1] * 9 + [-1], [1] * 8 + [0, 0], "accepted"),
    7: ("<script>alert('x')</script> Night buses should run every hour.", [1] * 10, [1] * 10, "pending"),
}


def planted_assembly(db: Session, owner_id: int | None = None, slug: str = "planted"):
    """Create the planted assembly through the participation rules; return (assembly, {Participant.id: group})."""
    from assembly.voting.rules import add_statement, create_participant, record_vote

    a = Assembly(slug=slug, title="Planted town", question="What should the town do?", language="en",
                 owner_id=owner_id)
    db.add(a)
    db.commit()
    people = [create_participant(db, a) for _ in range(20)]
    groups = {p.id: ("A" if i < 10 else "B") for i, p in enumerate(people)}
    for tid, (text, votes_a, votes_b, moderation) in PLANTED.items():
        st = add_statement(db, a, text, is_seed=True,
                           moderation=Moderation.pending if moderation == "pending" else Moderation.accepted)
        assert st.tid == tid
        for person, value in zip(people[:10], votes_a, strict=False):
            record_vote(db, a, person, tid, value)
        for person, value in zip(people[10:], votes_b, strict=False):
            record_vote(db, a, person, tid, value)
        if moderation == "rejected":
            st.moderation = Moderation.rejected
            db.add(st)
            db.commit()
    return a, groups
