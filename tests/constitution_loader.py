"""A minimal Polis export loader for the constitution tests (the full importer is assembly/polis_io.py).

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
