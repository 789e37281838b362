"""Who is the participant of this request, for the HTML views and the JSON API alike.

In the browser the signed session cookie holds only a reference, the participant's row id,
under `session["participants"][slug]`, never the `pt_...` token (a copied cookie then does
not give away an API credential, and the token never sits in plain text in the cookie).
API clients send the token as `Authorization: Bearer pt_...`; `api_access.participant_call`
resolves it. The HTML pages ignore that header altogether: they are cookie-and-CSRF only, so
a made-up bearer header can neither skip CSRF nor join anyone.
Participants are created lazily, on their first vote or statement, so page views do not
inflate the participant count; each join passes the join limits first (security.check_join).
In an invitation-only assembly a cookie's participant counts only while admitted
(invitations.admitted); otherwise the browser joins again through the invite link it holds.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request, session
from sqlmodel import Session

from assembly.invitations import admitted
from assembly.models import Assembly, Participant
from assembly.security import check_join
from assembly.voting.rules import create_participant, participant_by_token


def _from_cookie(db: Session, assembly: Assembly) -> Participant | None:
    ref = (session.get("participants") or {}).get(assembly.slug)
    if isinstance(ref, int) and not isinstance(ref, bool):
        participant = db.get(Participant, ref)
        return participant if participant is not None and participant.assembly_id == assembly.id else None
    if isinstance(ref, str):
        # A cookie from before references: it held the token. Replace it with the reference.
        participant = participant_by_token(db, assembly, ref)
        if participant is not None:
            remember(assembly, participant)
        return participant
    return None


def current_participant(
    db: Session, assembly: Assembly, *, create: bool = False, before_create: Callable[[], object] | None = None
) -> Participant | None:
    """The browser's participant in `assembly`; with `create`, join them (xid from `?xid=` or the form).

    `before_create` runs first when someone new would be joined (e.g. `check_vote`), so a
    request that is going to be refused leaves no participant behind.
    """
    participant = _from_cookie(db, assembly)
    if participant is not None and not admitted(db, assembly, participant):
        participant = None  # joined before the allow-list, or under a revoked link: an invitation decides
    if participant is not None or not create:
        return participant
    if before_create is not None:
        before_create()
    check_join(assembly.slug)
    xid, invite = held_invitation(assembly)
    participant = create_participant(db, assembly, xid=xid, invite=invite)
    remember(assembly, participant)
    return participant


def held_invitation(assembly: Assembly) -> tuple[str | None, str | None]:
    """(xid, invite key) this browser brought to `assembly`: from the form, else from its invite link."""
    xid = request.values.get("xid") or (session.get("xids") or {}).get(assembly.slug)
    invite = request.values.get("invite") or (session.get("invites") or {}).get(assembly.slug)
    return xid, invite


def remember_invitation(slug: str, xid: str, invite: str) -> None:
    """Keep an invite link's id and key in the signed cookie until the browser joins (its first vote)."""
    for name, value in (("xids", xid), ("invites", invite)):
        held = dict(session.get(name) or {})
        if value:
            held[slug] = value
        else:  # an empty id is no id: do not let it block joining an open assembly
            held.pop(slug, None)
        session[name] = held


def remember(assembly: Assembly, participant: Participant) -> None:
    """Keep a reference to the participant (its row id, not its token) in the signed session cookie."""
    refs = dict(session.get("participants") or {})
    refs[assembly.slug] = participant.id
    session["participants"] = refs
    session.permanent = True
