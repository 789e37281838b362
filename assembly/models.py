"""Database tables (SQLModel). SQLite by default, PostgreSQL through DATABASE_URL.

Votes are append-only events: a change of mind is a new row, and the latest row
per (participant, statement) is the vote that counts. The events are the audit
trail and are exactly what a Polis export's votes.csv holds.

Every schema change goes through an Alembic revision in assembly/migrations/.
"""

from __future__ import annotations

import enum
import secrets
import time
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Ids, Polis numbers (tid, pid) and millisecond timestamps are 64-bit on every backend, as the code
# bounds them (BIGINT_MAX, the <int:...> URL converter): BIGINT on PostgreSQL, whose INTEGER
# is 32-bit. SQLite's INTEGER is already 64-bit, and an INTEGER PRIMARY KEY is the rowid that
# autoincrements (a BIGINT one would not), so SQLite keeps INTEGER.
BigInt = BigInteger().with_variant(Integer(), "sqlite")
BIGINT_MAX = 2**63 - 1  # the largest id, tid or pid any backend stores; larger ones cannot exist


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_ms() -> int:
    """Milliseconds since the epoch, the unit of Polis export timestamps."""
    return time.time_ns() // 1_000_000


class Moderation(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


AGREE, PASS, DISAGREE = 1, 0, -1
VOTE_VALUES = (AGREE, PASS, DISAGREE)


class Facilitator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    email: str = Field(index=True, unique=True, max_length=254)
    name: str = Field(default="", max_length=120)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A facilitator's bearer token; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    facilitator_id: int = Field(foreign_key="facilitator.id", sa_type=BigInt, index=True)
    name: str = Field(max_length=120)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    # After this moment the token is refused (API_TOKEN_DAYS after issue); NULL never expires.
    expires_at: datetime | None = None
    revoked: bool = False


class FacilitatorSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds only a random key; its SHA-256 is kept here.

    Why server-side: logging out deletes the row, so a copied cookie stops working at once
    (a signed cookie alone stays valid until it expires), and "log out everywhere" or a
    password change can end every session of an account.
    """

    __tablename__ = "facilitator_session"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    facilitator_id: int = Field(foreign_key="facilitator.id", sa_type=BigInt, index=True)
    key_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Assembly(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    slug: str = Field(index=True, unique=True, max_length=80)
    title: str = Field(max_length=200)
    question: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = Field(default="en", max_length=35)
    strict_moderation: bool = False
    participants_can_write: bool = True
    statement_max_length: int = 280
    is_open: bool = True
    # When true, only external ids on the allow-list may take part.
    xid_required: bool = False
    owner_id: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
    # Polis export fields kept on import so a round trip preserves them.
    source: str = Field(default="", max_length=200)


class Participant(SQLModel, table=True):
    """A pseudonymous participant; `pid` is the per-assembly number Polis exports."""

    __table_args__ = (
        UniqueConstraint("assembly_id", "pid"),
        UniqueConstraint("assembly_id", "xid"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    pid: int = Field(sa_type=BigInt)
    xid: str | None = Field(default=None, max_length=200)
    # The allow-list nonce of the invitation this participant presented (XidAllow.nonce); in an
    # invitation-only assembly they may vote only while it matches their xid's current row.
    invite_nonce: str | None = Field(default=None, max_length=32)
    # Secret used as the participant cookie value and API token; never exported.
    token: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when a facilitator blocks them: their statements and votes are kept (audit trail) but
    # leave the clustering and the constitution's counts (results.vote_snapshot). Null = not blocked.
    blocked_at: datetime | None = None


class XidAllow(SQLModel, table=True):
    """An external id allowed to take part in an assembly that requires one.

    `nonce` goes into the invitee's signed invite key (assembly/invitations.py): removing the
    row, or giving it a new nonce, makes every link issued for it invalid.
    """

    __table_args__ = (UniqueConstraint("assembly_id", "xid"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    xid: str = Field(max_length=200)
    nonce: str = Field(default_factory=lambda: secrets.token_hex(8), max_length=32)


class Statement(SQLModel, table=True):
    """A statement (Polis 'comment'); `tid` is the per-assembly number Polis exports."""

    __table_args__ = (
        UniqueConstraint("assembly_id", "tid"),
        # One statement per normalised text: concurrent identical posts cannot both pass, and a
        # duplicate is found by one indexed lookup. NULL keys (duplicates within a Polis import)
        # are distinct, so an imported history is kept as it was.
        Index("uq_statement_text_key", "assembly_id", "text_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    tid: int = Field(sa_type=BigInt)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_key: str | None = Field(default=None, max_length=64, description="assembly.texts.text_key(text)")
    author_id: int | None = Field(default=None, foreign_key="participant.id", sa_type=BigInt)
    is_seed: bool = False
    moderation: Moderation = Field(default=Moderation.accepted)
    is_meta: bool = False
    language: str = Field(default="", max_length=35)
    created_ms: int = Field(default_factory=now_ms, sa_type=BigInt)


class Vote(SQLModel, table=True):
    """One vote event. +1 agree, -1 disagree, 0 pass (the Polis export convention)."""

    __table_args__ = (
        Index("ix_vote_participant_statement", "participant_id", "statement_id"),
        Index("ix_vote_assembly_id", "assembly_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt)
    participant_id: int = Field(foreign_key="participant.id", sa_type=BigInt)
    statement_id: int = Field(foreign_key="statement.id", sa_type=BigInt, index=True)
    value: int
    created_ms: int = Field(default_factory=now_ms, sa_type=BigInt)


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(SQLModel, table=True):
    """A unit of background work (a clustering run, later training) with its progress.

    Kept in the database so any web worker can show its status, and so a job
    whose process died is visible as failed instead of being lost. At most one
    job of a kind runs per assembly at a time, across all processes: the partial
    unique index below is the claim (several web workers hear the same votes).
    """

    __table_args__ = (
        Index(
            "ix_job_one_running", "kind", "assembly_id", unique=True,
            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    kind: str = Field(max_length=40, index=True)
    assembly_id: int | None = Field(default=None, foreign_key="assembly.id", sa_type=BigInt, index=True)
    status: JobStatus = Field(default=JobStatus.queued)
    progress: float = 0.0
    message: str = Field(default="", max_length=500)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    owner: str = Field(default="", max_length=80)  # "host:pid" of the process running it
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ClusteringRun(SQLModel, table=True):
    """One clustering of an assembly's votes: its inputs' fingerprint and the full result as JSON."""

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Provenance: what was clustered (latest-vote count and a hash of the latest-vote set).
    n_votes: int = Field(default=0, sa_type=BigInt)
    n_participants: int = 0
    vote_snapshot_hash: str = Field(default="", max_length=64)
    last_vote_id: int = Field(default=0, sa_type=BigInt)
    device: str = Field(default="", max_length=20)
    seconds: float = 0.0
    result_json: str = Field(sa_column=Column(Text, nullable=False))
