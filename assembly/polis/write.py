"""Writing a parsed Polis export into the database as a new assembly, in one transaction.

`read.read_export` has already validated every file, so bad input changes nothing:
`write_export` inserts the `PolisExport` with bulk Core inserts and rolls back on any
failure. `import_polis` is both steps for one folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assembly.models import Assembly, Participant, Statement, Vote, utcnow
from assembly.polis.read import PolisExport, PolisImportError, read_export
from assembly.tokens import TokenKind, new_token
from assembly.validation import TITLE_MAX, AssemblyFields, field_errors, validate_slug


def slug_for(name: str) -> str:
    """A URL slug from a folder name: `vtaiwan.uberx` -> `vtaiwan-uberx`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80].strip("-")


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{name}: {message}" for name, message in field_errors(exc).items())


def check_new_slug(db: Session, slug: str) -> None:
    """Refuse a slug the facilitator form and the API would refuse (`AssemblyFields`), or one taken."""
    _slug, problem = validate_slug(slug)
    if problem:
        raise PolisImportError(f"slug {slug!r}: {problem}")
    if db.exec(select(Assembly.id).where(Assembly.slug == slug)).first() is not None:
        raise PolisImportError(f"an assembly with slug {slug!r} already exists; choose another slug")


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def write_export(
    db: Session,
    export: PolisExport,
    slug: str,
    *,
    language: str = "en",
    owner_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Assembly:
    """Create a new assembly holding `export`, in one transaction; `progress(n)` after each batch of votes."""
    check_new_slug(db, slug)
    topic = export.summary.get("topic", "").strip()
    try:  # the same rules as the facilitator form and the API, so the imported assembly can be edited
        fields = AssemblyFields.model_validate({
            "slug": slug, "title": (topic or slug)[:TITLE_MAX], "question": topic,
            "description": export.summary.get("conversation-description", "").strip(), "language": language,
        })
    except ValidationError as exc:
        raise PolisImportError(f"cannot import as an assembly: {_problems(exc)}") from exc
    language = fields.language
    assembly = Assembly(
        **fields.model_dump(exclude={"statement_max_length"}),
        owner_id=owner_id,
        source=export.summary.get("url", "").strip()[:200],
    )
    try:
        db.add(assembly)
        db.flush()
        conn, aid, now = db.connection(), assembly.id, utcnow()
        people = [
            {"assembly_id": aid, "pid": pid, "xid": None, "token": new_token(TokenKind.participant), "created_at": now}
            for pid in sorted(export.participants)
        ]
        if people:  # an empty list would run as a one-row insert of defaults (NOT NULL failed)
            conn.execute(Participant.__table__.insert(), people)
        person = dict(conn.execute(select(Participant.pid, Participant.id).where(Participant.assembly_id == aid)).all())
        conn.execute(Statement.__table__.insert(), [
            {
                "assembly_id": aid, "tid": c.tid, "text": c.text, "moderation": c.moderation,
                "author_id": None if c.author_pid is None else person[c.author_pid],
                "is_seed": c.is_seed, "is_meta": c.is_meta, "language": language, "created_ms": c.created_ms,
            }
            for c in sorted(export.comments, key=lambda c: c.tid)
        ])
        statement = dict(conn.execute(select(Statement.tid, Statement.id).where(Statement.assembly_id == aid)).all())
        for batch in _chunks(export.votes, 10_000):
            conn.execute(Vote.__table__.insert(), [
                {"assembly_id": aid, "participant_id": person[pid], "statement_id": statement[tid],
                 "value": value, "created_ms": ms}
                for ms, tid, pid, value in batch
            ])
            if progress is not None:
                progress(len(batch))
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise PolisImportError(f"could not import into {slug!r}: {exc.orig}") from exc
    except BaseException:
        db.rollback()
        raise
    return assembly


def import_polis(
    db: Session, folder: Path | str, slug: str | None = None, *, language: str = "en", owner_id: int | None = None
) -> Assembly:
    """Read and import a Polis export folder as a new assembly (slug from the folder name by default)."""
    slug = slug or slug_for(Path(folder).name)
    check_new_slug(db, slug)  # fail fast, before parsing a large export
    return write_export(db, read_export(folder), slug, language=language, owner_id=owner_id)


