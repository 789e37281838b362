"""Pydantic models of the JSON API's requests and responses; the OpenAPI document is generated from them.

Request models forbid unknown fields, so a misspelt key is a 422 with the
field's name instead of a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    model_validator,
)

from assembly.models import Moderation
from assembly.validation import AssemblyFields, Description, Language, MaxLength, Question, Title


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every 4xx answer: one sentence a person can act on."""

    error: str
    detail: list[dict[str, Any]] | None = Field(default=None, description="Field errors of a 422 validation error.")


# Documented on every API route; 422 is also what flask-openapi3 answers for invalid input.
ERROR_RESPONSES: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut,
}


# -- paths --------------------------------------------------------------------------------------


class SlugPath(BaseModel):
    slug: str = Field(description="The assembly's slug.")


class StatementPath(SlugPath):
    tid: int = Field(description="The statement's number in the assembly (Polis 'comment-id').")


# -- assemblies ---------------------------------------------------------------------------------


class AssemblySettings(_In):
    """The settings a facilitator may change after creation; all optional in a PATCH."""

    title: Title | None = None
    question: Question | None = None
    description: Description | None = None
    language: Language | None = None
    strict_moderation: StrictBool | None = Field(default=None, description="Show only accepted statements.")
    participants_can_write: StrictBool | None = None
    statement_max_length: MaxLength | None = None
    is_open: StrictBool | None = Field(default=None, description="Open or close the assembly to votes.")
    xid_required: StrictBool | None = Field(default=None, description="Only allow-listed external ids may join.")


class AssemblyCreate(AssemblyFields, _In):
    """A new assembly: the fields every way of creating one checks (`AssemblyFields`), and its switches."""

    strict_moderation: StrictBool = False
    participants_can_write: StrictBool = True
    is_open: StrictBool = True
    xid_required: StrictBool = False


class AssemblyOut(BaseModel):
    slug: str
    title: str
    question: str
    description: str
    language: str
    strict_moderation: bool
    participants_can_write: bool
    statement_max_length: int
    is_open: bool
    xid_required: bool


class AssemblyList(BaseModel):
    assemblies: list[AssemblyOut]


# -- participants -------------------------------------------------------------------------------


class JoinIn(_In):
    xid: str | None = Field(default=None, description="External id (an identifier, not a secret); "
                            "required when the assembly is by invitation.")
    invite: str | None = Field(default=None, max_length=64,
                               description="The invite key of the id's personal link; required, with xid, "
                               "when the assembly is by invitation.")

    @model_validator(mode="before")
    @classmethod
    def _empty_body(cls, data: Any) -> Any:
        # Joining needs no body at all; treat a missing one as {}.
        return {} if data is None else data


class JoinOut(BaseModel):
    token: str = Field(description="Participant bearer token (pt_...); keep it secret.")
    pid: int = Field(description="Participant number in this assembly.")


# -- statements ---------------------------------------------------------------------------------


class StatementIn(_In):
    text: str = Field(description="The statement; whitespace is collapsed, length per the assembly's setting.")
    is_meta: StrictBool = Field(default=False, description="Facilitators only: a statement about the process.")


class StatementsIn(RootModel[StatementIn | list[StatementIn]]):
    """One statement, or (facilitators) a list of seed statements added all or none."""


class StatementOut(BaseModel):
    tid: int
    text: str
    is_seed: bool
    is_meta: bool
    created_ms: int
    mine: bool = Field(default=False, description="Written by the calling participant.")
    moderation: Moderation | None = Field(default=None, description="Owner facilitator only.")
    author_pid: int | None = Field(default=None, description="Owner facilitator only.")


class StatementList(BaseModel):
    statements: list[StatementOut]


class StatementModeration(_In):
    moderation: Moderation | None = None
    is_meta: StrictBool | None = None


class Progress(BaseModel):
    voted: int
    total: int


class NextOut(BaseModel):
    statement: StatementOut | None = Field(description="null when the participant has voted on everything.")
    progress: Progress
    is_open: bool = Field(description="false when the assembly is closed to votes (statement is then null).")


# -- votes --------------------------------------------------------------------------------------


def _not_a_bool(value: Any) -> Any:
    # JSON true would otherwise pass as 1: a client bug must not become an agree vote.
    if isinstance(value, bool):
        raise ValueError("a vote is the number 1, 0 or -1, not true/false")
    return value


# A vote in a JSON body (on a statement or on a community eval item): 1, 0 or -1, never a boolean.
VoteValue = Annotated[Literal[-1, 0, 1], BeforeValidator(_not_a_bool)]


class VoteIn(_In):
    tid: StrictInt
    vote: VoteValue = Field(description="1 agree, -1 disagree, 0 pass (the Polis export convention).")


class VoteOut(BaseModel):
    id: int = Field(description="The stored vote event's id.")
    tid: int
    vote: int
    created_ms: int


class MyVotes(BaseModel):
    votes: list[VoteOut] = Field(description="The latest vote per statement.")


# -- results ------------------------------------------------------------------------------------


class StatementCounts(BaseModel):
    tid: int
    text: str
    is_meta: bool
    agree: int
    disagree: int
    pass_: int = Field(alias="pass", serialization_alias="pass")
    seen: int
    moderation: Moderation | None = Field(default=None, description="Owner facilitator only.")

    model_config = ConfigDict(populate_by_name=True)


class ResultsOut(BaseModel):
    assembly: str
    participants: int
    vote_events: int = Field(description="All vote events, changes of mind included.")
    statements: list[StatementCounts] = Field(description="Counts from each participant's latest vote.")
    clustering: dict[str, Any] | None = Field(
        default=None, description="Opinion groups of the latest clustering run; null until one exists."
    )


class CsrfOut(BaseModel):
    csrf_token: str = Field(description="Send as X-CSRFToken on cookie-authenticated POST/PATCH calls.")
