"""JSON API of human rating (docs/api.md): a round's status and the adapter's win rates per group.

Owner only, as the facilitator's pages: the figures name opinion groups and prompts before the
facilitator has decided what to publish. Nested under /api by assembly/api.py, so errors are
`{"error": message}` and the routes are in /api/openapi.json.
"""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from assembly.api_access import require_facilitator
from assembly.assemblies import get_assembly
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.evals import rating
from assembly.evals.rating_models import RatingRound
from assembly.models import Assembly
from assembly.schemas import ERROR_RESPONSES, SlugPath

bp = APIBlueprint("api_rating", __name__, abp_tags=[Tag(name="human rating")], abp_responses=ERROR_RESPONSES)
FACILITATOR = [{"facilitatorToken": []}, {"cookieSession": []}]


class RoundPath(SlugPath):
    round_id: int = Field(description="The rating round's id.")


class RatingRoundOut(BaseModel):
    """A round: its status, and the adapter's win rate against the base (a tie counts half)."""

    id: int
    adapter: str | None
    adapter_id: int
    status: str = Field(description="generating, open (answers ready, taking choices), closed or failed.")
    prompts: int
    ready: int = Field(description="Prompts whose two answers are generated.")
    failed: int
    choices: int
    created_at: str
    closed_at: str | None
    win_rates: dict[str, Any] = Field(
        description="{all, groups: {label: ...}, ungrouped, worst_group}; each {n, participants, adapter, base, "
                    "tie, win_rate: {value, low, high}} with a seeded bootstrap 95% interval over participants.")
    per_prompt: list[dict[str, Any]] = Field(description="Each prompt's choices per group and the side every group "
                                                         "preferred (the bridging rule), or null.")


class RatingRoundList(BaseModel):
    rating_rounds: list[RatingRoundOut]


def _owned(slug: str) -> Assembly:
    fac = require_facilitator()
    a = get_assembly(get_session(), slug)
    if a.owner_id != fac.id:
        raise AssemblyError("only the facilitator who owns this assembly may do this", 403)
    return a


@bp.get("/assemblies/<slug>/rating-rounds", summary="Human rating rounds with status and win rates (owner)",
        responses={200: RatingRoundList}, security=FACILITATOR)
def list_rounds(path: SlugPath):
    a = _owned(path.slug)
    db = get_session()
    return {"rating_rounds": [rating.results(db, r) for r in rating.rounds_of(db, a)]}


@bp.get("/assemblies/<slug>/rating-rounds/<int:round_id>", summary="One human rating round (owner)",
        responses={200: RatingRoundOut}, security=FACILITATOR)
def show_round(path: RoundPath):
    a = _owned(path.slug)
    db = get_session()
    rnd = db.get(RatingRound, path.round_id)
    if rnd is None or rnd.assembly_id != a.id:
        raise AssemblyError(f"no rating round {path.round_id} in {path.slug}", 404)
    return rating.results(db, rnd)
