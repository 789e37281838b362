"""Who is the participant of this request, for the HTML views and the JSON API alike.

A participant is identified by a secret token: in the browser it sits in the
signed session cookie under `session["participants"][slug]`; API clients send
it as `Authorization: Bearer pt_...`. Participants are created lazily, on their
first vote or statement, so page views do not inflate the participant count.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request, session
from sqlmodel import Session

from assembly.models import Assembly, Participant
from assembly.tokens import TokenKind, bearer_of
from assembly.voting.rules import create_participant, participant_by_token


def _bearer() -> str | None:
    return bearer_of(TokenKind.participant)


def current_participant(
    db: Session, assembly: Assembly, *, create: bool = False, before_create: Callable[[], object] | None = None
) -> Participant | None:
    """The request's participant in `assembly`; with `create`, join them (xid from `?xid=` or the form).

    `before_create` runs first when someone new would be joined (e.g. `check_vote`), so a
    request that is going to be refused leaves no participant behind.
    """
    token = _bearer() or (session.get("participants") or {}).get(assembly.slug)
    participant = participant_by_token(db, assembly, token)
    if participant is not None or not create:
        return participant
    if before_create is not None:
        before_create()
    xid = request.values.get("xid") or session.get("xids", {}).get(assembly.slug)
    participant = create_participant(db, assembly, xid=xid)
    if _bearer() is None:
        remember(assembly, participant)
    return participant


def remember(assembly: Assembly, participant: Participant) -> None:
    """Keep the participant's token in the browser's signed session cookie."""
    tokens = dict(session.get("participants") or {})
    tokens[assembly.slug] = participant.token
    session["participants"] = tokens
    session.permanent = True
