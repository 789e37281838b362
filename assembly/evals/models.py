"""The evals tables: `eval_run`, one evaluation of a base model (and optionally an adapter),
`redteam_item`, the regressions facilitators file, and `community_item` with `community_item_vote`,
the items the assembly writes and votes on.

The report itself is a JSON file under FINETUNE_DIR/evals/ (per-item results make it large); the
row keeps the decision and the figures the registry and the /hf `latest` alias need, and is
marked done only once the report file is complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from assembly.models import BigInt, Moderation, now_ms, utcnow

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)


class EvalRun(SQLModel, table=True):
    __tablename__ = "eval_run"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    adapter_id: int | None = Field(default=None, foreign_key="adapter.id", sa_type=BigInt, index=True)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", sa_type=BigInt)
    job_id: int | None = Field(default=None, foreign_key="job.id", sa_type=BigInt)
    base_model: str = Field(max_length=500)
    suites_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))  # [] = all
    status: str = Field(default=QUEUED, max_length=16)
    fit_to_ship: bool | None = None  # None: no adapter, or not finished
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    report_path: str = Field(default="", max_length=1000)  # relative to FINETUNE_DIR
    report_sha256: str = Field(default="", max_length=64)
    models_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    wall_time_s: float = 0.0
    created_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class RedTeamItem(SQLModel, table=True):
    """A prompt and the bad output a facilitator found in use; every later eval is scored on it.

    Kept for good: nothing deletes it, so a regression once filed is checked on every later adapter."""

    __tablename__ = "redteam_item"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    bad_output: str = Field(sa_column=Column(Text, nullable=False))
    good_output: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # "" = a decline
    language: str = Field(default="", max_length=35)  # "" = the assembly's
    filed_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)


class CommunityItem(SQLModel, table=True):
    """An eval item a participant or facilitator proposed: a prompt, a good answer and a bad one.

    The assembly votes on it in its own queue; once every opinion group supports it (the
    constitution's candidate rule), it joins the `community` eval suite with its votes."""

    __tablename__ = "community_item"
    __table_args__ = (UniqueConstraint("assembly_id", "text_key", name="uq_community_item_text"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    good: str = Field(sa_column=Column(Text, nullable=False))
    bad: str = Field(sa_column=Column(Text, nullable=False))
    text_key: str = Field(max_length=64)  # texts.text_key over prompt, good and bad: one item once
    moderation: str = Field(default=Moderation.accepted.value, max_length=16)  # a Moderation value
    author_id: int | None = Field(default=None, foreign_key="participant.id", sa_type=BigInt)
    filed_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)


class CommunityItemVote(SQLModel, table=True):
    """A participant's current vote on an item: one row per (item, participant), changed in place,
    so voting again changes the vote instead of counting twice."""

    __tablename__ = "community_item_vote"
    __table_args__ = (UniqueConstraint("item_id", "participant_id", name="uq_community_item_vote"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    item_id: int = Field(foreign_key="community_item.id", sa_type=BigInt, index=True)
    participant_id: int = Field(foreign_key="participant.id", sa_type=BigInt)
    value: int
    created_ms: int = Field(default_factory=now_ms, sa_type=BigInt)
