"""Constitution versions: a draft the facilitator reviews, then immutable numbered published versions.

The whole document (principles, evidence, exclusions, provenance) is stored as canonical JSON, so
a published version is exactly what was hashed and exported, and new votes can only make a new draft.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

from assembly.models import BigInt, utcnow

DRAFT, PUBLISHED, SUPERSEDED = "draft", "published", "superseded"


class ConstitutionVersion(SQLModel, table=True):
    """One built constitution; `number` is set when it is published (1, 2, ...) and never changes after."""

    __tablename__ = "constitution_version"
    __table_args__ = (UniqueConstraint("assembly_id", "number"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    number: int | None = Field(default=None, sa_type=BigInt)  # a URL may name any 64-bit number
    status: str = Field(default=DRAFT, max_length=16)
    document: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(default="", max_length=64)
    vote_snapshot_hash: str = Field(default="", max_length=64)
    created_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


class ImmutableVersionError(RuntimeError):
    """Raised when code tries to change or delete a published version."""


def _was_published(target: ConstitutionVersion) -> bool:
    hist = inspect(target).attrs.status.history
    old = list(hist.deleted) or list(hist.unchanged)
    return bool(old) and old[0] == PUBLISHED


@event.listens_for(ConstitutionVersion, "before_update")
def _refuse_update(_mapper, _conn, target: ConstitutionVersion) -> None:
    if _was_published(target):
        raise ImmutableVersionError(f"published constitution version {target.number} cannot change")


@event.listens_for(ConstitutionVersion, "before_delete")
def _refuse_delete(_mapper, _conn, target: ConstitutionVersion) -> None:
    if target.status == PUBLISHED:
        raise ImmutableVersionError(f"published constitution version {target.number} cannot be deleted")
