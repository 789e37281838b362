"""Human rating tables: a round per adapter, its prompts (answered through "Try it" generations), choices.

A round's prompts each own a `generation` row, so both answers are made by the existing queued
generation job and never on the request path. A choice is one row per (prompt, participant):
changing it updates the row, so a participant is counted once per prompt. The row also keeps which
answer was shown as "A" (the blind order), as the record of what the participant saw.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from assembly.models import BigInt, utcnow


class RatingRound(SQLModel, table=True):
    """A facilitator's round of blind comparisons of one adapter with its base."""

    __tablename__ = "rating_round"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    adapter_id: int = Field(foreign_key="adapter.id", sa_type=BigInt, index=True)
    seed: int = Field(default=0, sa_type=BigInt)  # the blind order's seed (finetune.evals.rating.blind_order)
    is_open: bool = True
    created_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class RatingPrompt(SQLModel, table=True):
    """One prompt of a round; its text and both answers live in its generation row."""

    __tablename__ = "rating_prompt"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    round_id: int = Field(foreign_key="rating_round.id", sa_type=BigInt, index=True)
    generation_id: int = Field(foreign_key="generation.id", sa_type=BigInt)
    heldout_tid: int | None = Field(default=None, sa_type=BigInt)  # asked from this held-out statement
    position: int = 0


class RatingChoice(SQLModel, table=True):
    """A participant's current choice on a prompt: 'adapter', 'base' or 'tie'."""

    __tablename__ = "rating_choice"
    __table_args__ = (UniqueConstraint("prompt_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    prompt_id: int = Field(foreign_key="rating_prompt.id", sa_type=BigInt)
    participant_id: int = Field(foreign_key="participant.id", sa_type=BigInt, index=True)
    outcome: str = Field(max_length=8)
    adapter_shown_as: str = Field(max_length=1)  # "A" or "B": the order this participant saw
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
