"""JSON API for community-written eval items: list them with votes and status, propose, vote, moderate.

Same credentials as the rest of the API: participants send `Bearer pt_...` (or the browser's
cookie), the owner facilitator `Bearer aa_...`. Per-group counts are the owner's view, as the
moderation page is; everyone sees each item's totals and whether it passes.
"""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assembly.api_access import facilitator_request, is_owner, participant_call, require_participant
from assembly.assemblies import get_assembly, load_assembly
from assembly.auth import current_facilitator
from assembly.db import get_session
from assembly.evals import community
from assembly.models import Moderation
from assembly.schemas import ERROR_RESPONSES, SlugPath, VoteValue
from assembly.security import limiter, statements_limit, votes_limit

bp = APIBlueprint("api_items", __name__, abp_tags=[Tag(name="eval items")], abp_responses=ERROR_RESPONSES)

PARTICIPANT = [{"participantToken": []}, {"cookieSession": []}]
FACILITATOR = [{"facilitatorToken": []}, {"cookieSession": []}]
ANYONE = [*PARTICIPANT, {"facilitatorToken": []}, {}]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemPath(SlugPath):
    item_id: int = Field(description="The item's id.")


class ItemIn(_In):
    prompt: StrictStr = Field(description=f"What the model is asked; 1 to {community.PROMPT_MAX} characters.")
    good: StrictStr = Field(description=f"A good answer; 1 to {community.ANSWER_MAX} characters.")
    bad: StrictStr = Field(description=f"A bad answer, different from the good one; 1 to {community.ANSWER_MAX}.")


class ItemVoteIn(_In):
    vote: VoteValue = Field(description="1 agree (the good answer is better), -1 disagree, 0 pass.")


class ItemModeration(_In):
    moderation: Moderation


class Counts(BaseModel):
    agree: int
    disagree: int
    pass_: int = Field(alias="pass", serialization_alias="pass")
    seen: int
    model_config = ConfigDict(populate_by_name=True)


class GroupCounts(Counts):
    group: str


class ItemOut(BaseModel):
    id: int
    prompt: str
    good: str
    bad: str
    moderation: str | None = Field(default=None, description="Owner facilitator only.")
    votes: Counts = Field(description="Every participant's one current vote.")
    groups: list[GroupCounts] | None = Field(default=None, description="Owner facilitator only: per opinion group.")
    decision: str = Field(description="'candidate' (passes), 'no_groups' before any clustering, or the "
                                      "constitution's exclusion reason (too_few_votes, divisive, low_agreement, ...).")
    detail: str
    passes: bool = Field(description="Every opinion group supports it: it joins the community eval suite.")
    my_vote: int | None = Field(default=None, description="The calling participant's vote, if any.")


class ItemList(BaseModel):
    items: list[ItemOut]
    clustering: dict[str, Any] | None = Field(description="The clustering run whose groups decided; null before one.")


class ItemVoteOut(BaseModel):
    item_id: int
    vote: int
    created_ms: int


def _item_json(row: dict[str, Any], owner: bool, mine: dict[int, int]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "prompt", "good", "bad", "votes", "decision", "detail", "passes")}
    if owner:
        out.update(moderation=row["moderation"], groups=row["groups"])
    out["my_vote"] = mine.get(row["id"])
    return out


def _listing(db, assembly, me=None, owner: bool = False, only: set[int] | None = None) -> list[dict[str, Any]]:
    found = community.assessment(db, assembly)
    mine = {i: v for (_p, i), v in community.votes_of(db, assembly, me.id).items()} if me is not None else {}
    rows = found.items if only is None else [r for r in found.items if r["id"] in only]
    return [_item_json(r, owner, mine) for r in rows]


@bp.get("/assemblies/<slug>/items", summary="Community eval items with votes and whether each passes",
        responses={200: ItemList}, security=ANYONE)
def list_items(path: SlugPath):
    db = get_session()
    assembly = get_assembly(db, path.slug)
    found = community.assessment(db, assembly)
    if is_owner(db, assembly):
        return {"items": [_item_json(r, True, {}) for r in found.items], "clustering": found.clustering}
    me = None if facilitator_request() else participant_call(db, path.slug, create=False)[1]
    by_id = {it.id: it for it in community.items_of(db, assembly)}
    shown = {i for i, it in by_id.items()
             if community.may_vote(it, assembly, me.id if me else None) and it.moderation != Moderation.rejected}
    mine = {i: v for (_p, i), v in community.votes_of(db, assembly, me.id).items()} if me is not None else {}
    return {"items": [_item_json(r, False, mine) for r in found.items if r["id"] in shown],
            "clustering": found.clustering}


@bp.post("/assemblies/<slug>/items", summary="Propose an item (participant, or the owner facilitator)",
         responses={201: ItemOut}, security=[*PARTICIPANT, {"facilitatorToken": []}])
@limiter.limit(statements_limit, exempt_when=facilitator_request)
def propose_item(path: SlugPath, body: ItemIn):
    db = get_session()
    fields = {"prompt": body.prompt, "good": body.good, "bad": body.bad}
    if facilitator_request():
        assembly = load_assembly(path.slug, check_owner=True)
        item = community.propose(db, assembly, **fields, filed_by=current_facilitator().id)
        return _listing(db, assembly, owner=True, only={item.id})[0], 201
    assembly, me = participant_call(db, path.slug, create=True,
                                    before_create=lambda a: community.check_item(db, a, **fields))
    item = community.propose(db, assembly, **fields, author=me)
    return _listing(db, assembly, me, only={item.id})[0], 201


@bp.post("/assemblies/<slug>/items/<int:item_id>/votes",
         summary="Vote on an item; a second vote replaces the first", responses={201: ItemVoteOut},
         security=PARTICIPANT)
@limiter.limit(votes_limit)
def vote_item(path: ItemPath, body: ItemVoteIn):
    db = get_session()
    assembly, me = require_participant(
        db, path.slug, create=True,
        before_create=lambda a: community.votable(db, a, path.item_id, body.vote, None))
    row = community.vote(db, assembly, me, path.item_id, body.vote)
    return {"item_id": row.item_id, "vote": row.value, "created_ms": row.created_ms}, 201


@bp.patch("/assemblies/<slug>/items/<int:item_id>", summary="Accept or reject an item (owner)",
          responses={200: ItemOut}, security=FACILITATOR)
def moderate_item(path: ItemPath, body: ItemModeration):
    db = get_session()
    assembly = load_assembly(path.slug, check_owner=True)
    community.moderate(db, assembly, path.item_id, Moderation(body.moderation).value)
    return _listing(db, assembly, owner=True, only={path.item_id})[0]
