"""Who is calling the JSON API: a participant (token or cookie), the owner facilitator, or anyone.

The vote path is hot, so a participant bearer token is resolved together with
its assembly in one indexed query, and the session cookie is not read at all.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from sqlalchemy import bindparam
from sqlmodel import Session, select

from assembly.assemblies import get_assembly
from assembly.auth import current_facilitator, has_login_cookie
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, Facilitator, Participant
from assembly.tokens import TokenKind, bearer_token, kind_of
from assembly.voting.identity import current_participant

# Built once (see voting.rules.record_vote): participant and assembly in one indexed lookup.
_PARTICIPANT_BY_TOKEN = (
    select(Participant, Assembly)
    .join(Assembly, Participant.assembly_id == Assembly.id)
    .where(Participant.token == bindparam("token"))
)


def facilitator_request() -> bool:
    """Does this request claim to be a facilitator's (aa_ token, or a logged-in browser without a token)?"""
    token = bearer_token()
    if token is not None:
        return kind_of(token) is TokenKind.facilitator
    return has_login_cookie()


def require_facilitator() -> Facilitator:
    """The calling facilitator; 401 without one."""
    fac = current_facilitator()
    if fac is None:
        abort(401, "facilitator login or an 'Authorization: Bearer aa_...' token is required")
    return fac


def is_owner(db: Session, assembly: Assembly) -> bool:
    """True when a facilitator who owns `assembly` is calling; never touches the DB for participants."""
    if not facilitator_request():
        return False
    fac = current_facilitator()
    return fac is not None and assembly.owner_id == fac.id


def participant_call(
    db: Session, slug: str, *, create: bool, before_create: Callable[[Assembly], object] | None = None
) -> tuple[Assembly, Participant | None]:
    """(assembly, participant) for a participant call; a bad token is 401, a facilitator token 403.

    With `create`, a browser (cookie) caller without a participant yet is joined,
    as the HTML pages do; token callers join explicitly through POST .../participants.
    """
    token = bearer_token()
    if token is None:
        assembly = get_assembly(db, slug)
        check = None if before_create is None else (lambda: before_create(assembly))
        return assembly, current_participant(db, assembly, create=create, before_create=check)
    kind = kind_of(token)
    if kind is not TokenKind.participant:
        if kind is TokenKind.facilitator:
            raise AssemblyError(
                "this call is for participants; join with POST /api/assemblies/<slug>/participants", 403
            )
        abort(401, "unknown token; participant tokens start with pt_")
    row = db.execute(_PARTICIPANT_BY_TOKEN, {"token": token}).first()
    if row is None or row[1].slug != slug:
        get_assembly(db, slug)  # 404 for a missing assembly comes first
        abort(401, "this participant token is not valid for this assembly")
    participant, assembly = row
    return assembly, participant


def require_participant(
    db: Session, slug: str, *, create: bool, before_create: Callable[[Assembly], object] | None = None
) -> tuple[Assembly, Participant]:
    assembly, participant = participant_call(db, slug, create=create, before_create=before_create)
    if participant is None:
        abort(401, "join the assembly first (POST /api/assemblies/<slug>/participants) and send its token")
    return assembly, participant
