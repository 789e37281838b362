"""JSON API: assemblies (list, read, create, edit), joining, statements and their moderation."""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from assembly.api_access import (
    facilitator_request,
    is_owner,
    participant_call,
    require_facilitator,
)
from assembly.assemblies import get_assembly, load_assembly
from assembly.db import get_session
from assembly.facilitation.rules import Seed, seed_statements
from assembly.facilitation.rules import moderate_statement as moderate
from assembly.guards import bulk_body
from assembly.models import Assembly, Moderation, Participant, Statement
from assembly.schemas import (
    ERROR_RESPONSES,
    AssemblyCreate,
    AssemblyList,
    AssemblyOut,
    AssemblySettings,
    JoinIn,
    JoinOut,
    SlugPath,
    StatementList,
    StatementModeration,
    StatementOut,
    StatementPath,
    StatementsIn,
)
from assembly.security import check_join, limiter, statements_limit
from assembly.tokens import bearer_token
from assembly.voting.identity import remember
from assembly.voting.rules import (
    AssemblyError,
    add_statement,
    check_statement,
    create_participant,
    may_vote,
)

bp = APIBlueprint("api_assemblies", __name__, abp_tags=[Tag(name="assemblies")], abp_responses=ERROR_RESPONSES)

PUBLIC: list[dict[str, list[str]]] = []
FACILITATOR = [{"facilitatorToken": []}, {"cookieSession": []}]
PARTICIPANT = [{"participantToken": []}, {"cookieSession": []}]
ANYONE = [*PARTICIPANT, {"facilitatorToken": []}, {}]


def assembly_json(a: Assembly) -> dict[str, Any]:
    return AssemblyOut.model_validate(a, from_attributes=True).model_dump()


def statement_json(s: Statement, *, me: Participant | None = None, pids: dict[int, int] | None = None) -> dict:
    """A statement as the caller may see it: moderation and author only when `pids` (owner view) is given."""
    out: dict[str, Any] = {
        "tid": s.tid,
        "text": s.text,
        "is_seed": s.is_seed,
        "is_meta": s.is_meta,
        "created_ms": s.created_ms,
        "mine": me is not None and s.author_id == me.id,
    }
    if pids is not None:
        out["moderation"] = Moderation(s.moderation).value
        out["author_pid"] = pids.get(s.author_id) if s.author_id is not None else None
    return out


@bp.get("/assemblies", summary="Open assemblies, except invitation-only ones", responses={200: AssemblyList},
        security=PUBLIC)
def list_assemblies():
    # Invitation-only assemblies are not listed (as on the home page); they stay readable by slug.
    public = select(Assembly).where(Assembly.is_open == True, Assembly.xid_required == False)  # noqa: E712
    rows = get_session().exec(public.order_by(Assembly.id))
    return {"assemblies": [assembly_json(a) for a in rows]}


@bp.get("/assemblies/<slug>", summary="One assembly", responses={200: AssemblyOut}, security=PUBLIC)
def read_assembly(path: SlugPath):
    return assembly_json(get_assembly(get_session(), path.slug))


@bp.post("/assemblies", summary="Create an assembly (facilitator)", responses={201: AssemblyOut}, security=FACILITATOR)
def create_assembly(body: AssemblyCreate):
    db = get_session()
    fac = require_facilitator()
    if db.exec(select(Assembly).where(Assembly.slug == body.slug)).first() is not None:
        raise AssemblyError(f"the slug {body.slug!r} is taken; choose another", 409)
    assembly = Assembly(**body.model_dump(), owner_id=fac.id)
    db.add(assembly)
    try:
        db.commit()
    except IntegrityError as exc:  # a concurrent request took the slug between check and insert
        db.rollback()
        raise AssemblyError(f"the slug {body.slug!r} is taken; choose another", 409) from exc
    return assembly_json(assembly), 201


def _no_nulls(changes: dict[str, Any]) -> dict[str, Any]:
    nulls = sorted(k for k, v in changes.items() if v is None)
    if nulls:
        raise AssemblyError(f"these fields cannot be null: {', '.join(nulls)}", 422)
    return changes


@bp.patch(
    "/assemblies/<slug>", summary="Edit settings, open or close (owner)", responses={200: AssemblyOut},
    security=FACILITATOR,
)
def edit_assembly(path: SlugPath, body: AssemblySettings):
    db = get_session()
    assembly = load_assembly(path.slug, check_owner=True)
    for key, value in _no_nulls(body.model_dump(exclude_unset=True)).items():
        setattr(assembly, key, value)
    db.add(assembly)
    db.commit()
    return assembly_json(assembly)


@bp.post(
    "/assemblies/<slug>/participants", summary="Join: get a participant token", responses={201: JoinOut},
    security=PUBLIC,
)
def join(path: SlugPath, body: JoinIn):
    db = get_session()
    assembly = get_assembly(db, path.slug)
    if not assembly.is_open:
        raise AssemblyError("this assembly is closed", 409)
    check_join(assembly.slug)
    participant = create_participant(db, assembly, xid=body.xid, invite=body.invite)
    if bearer_token() is None:
        # A browser joining through the API keeps the participant in its cookie, like the pages do.
        remember(assembly, participant)
    return {"token": participant.token, "pid": participant.pid}, 201


@bp.get(
    "/assemblies/<slug>/statements",
    summary="Statements: visible ones, or all with moderation for the owner",
    responses={200: StatementList},
    security=ANYONE,
)
def list_statements(path: SlugPath):
    db = get_session()
    assembly = get_assembly(db, path.slug)
    rows = list(db.exec(select(Statement).where(Statement.assembly_id == assembly.id).order_by(Statement.tid)))
    if is_owner(db, assembly):
        query = select(Participant.id, Participant.pid).where(Participant.assembly_id == assembly.id)
        pids = dict(db.exec(query).all())
        return {"statements": [statement_json(s, pids=pids) for s in rows]}
    if facilitator_request():
        me = None  # a facilitator who does not own the assembly sees what the public sees
    else:
        _, me = participant_call(db, path.slug, create=False)
    # What the caller may vote on; their own rejected statements are not listed.
    mine = None if me is None else me.id
    shown = [s for s in rows if may_vote(s, assembly, mine) and s.moderation != Moderation.rejected]
    return {"statements": [statement_json(s, me=me) for s in shown]}


@bp.post(
    "/assemblies/<slug>/statements",
    summary="Add a statement (participant) or seed statements, one or a list (owner)",
    responses={201: StatementList},
    security=[*PARTICIPANT, {"facilitatorToken": []}],
)
@limiter.limit(statements_limit, exempt_when=facilitator_request)
@bulk_body
def post_statements(path: SlugPath, body: StatementsIn):
    db = get_session()
    items = body.root if isinstance(body.root, list) else [body.root]
    if facilitator_request():
        assembly = load_assembly(path.slug, check_owner=True)
        seeds = [Seed(text=item.text, line=i, is_meta=item.is_meta) for i, item in enumerate(items)]
        added = seed_statements(db, assembly, seeds, all_or_none=True).added
        return {"statements": [statement_json(s, pids={}) for s in added]}, 201
    if isinstance(body.root, list):
        raise AssemblyError("participants add one statement at a time", 400)
    if items[0].is_meta:
        raise AssemblyError("only facilitators can mark a statement as meta", 403)
    assembly, me = participant_call(
        db, path.slug, create=True, before_create=lambda a: check_statement(db, a, items[0].text)
    )
    statement = add_statement(db, assembly, items[0].text, author=me)
    return {"statements": [statement_json(statement, me=me)]}, 201


@bp.patch(
    "/assemblies/<slug>/statements/<int:tid>",
    summary="Moderate a statement (owner)",
    responses={200: StatementOut},
    security=FACILITATOR,
)
def moderate_statement(path: StatementPath, body: StatementModeration):
    db = get_session()
    assembly = load_assembly(path.slug, check_owner=True)
    statement = moderate(db, assembly, path.tid, **_no_nulls(body.model_dump(exclude_unset=True)))
    pid = db.get(Participant, statement.author_id).pid if statement.author_id is not None else None
    return statement_json(statement, pids={statement.author_id: pid} if pid is not None else {})
