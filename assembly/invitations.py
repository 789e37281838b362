"""Invitation keys: the secret in a personal invite link, and who counts as admitted.

An invite link is /a/<slug>?xid=<id>&invite=<key>. The id alone is an identifier (an embedding
site passes its own user ids, as Polis does), not a secret: anyone can guess `member-001`.
The key is an HMAC, under the app's SECRET_KEY, of the assembly id, the id and the allow-list
row's random nonce. Nothing secret is stored: a leaked database without SECRET_KEY forges no
link. Removing an invitee (or giving the row a new nonce) makes every link issued for it fail.

In an invitation-only assembly (`xid_required`) a participant takes part only while the nonce
of the invitation they presented (`Participant.invite_nonce`) is their id's current one, so a
browser that joined before the allow-list was switched on, or under a revoked link, cannot
vote until it opens a valid personal link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from flask import current_app
from flask_babel import lazy_gettext
from sqlmodel import Session, select

from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, Participant, XidAllow

MAX_KEY = 64  # longer than any key this module makes; longer input is refused unread
INVITATION_ONLY = lazy_gettext("This assembly is by invitation only. Please open the personal link you were sent.")
BAD_INVITATION = lazy_gettext(
    "Your invitation link is not valid for this assembly. Please check the link you were sent.")


def invite_key(secret: str | bytes, assembly_id: int, xid: str, nonce: str) -> str:
    """The key of one invitation: 128 bits of HMAC-SHA256, URL-safe (22 characters)."""
    secret = secret.encode() if isinstance(secret, str) else secret
    message = json.dumps(["invite", assembly_id, xid, nonce]).encode()  # unambiguous field boundaries
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def key_for(row: XidAllow) -> str:
    """The current invite key of allow-list row `row`, under this app's secret."""
    return invite_key(current_app.secret_key, row.assembly_id, row.xid, row.nonce)


def valid_invitation(db: Session, assembly: Assembly, xid: str | None, key: str | None) -> XidAllow | None:
    """The allow-list row that `key` is the current invitation of for `xid`, or None."""
    if not xid or not isinstance(key, str) or not key or len(key) > MAX_KEY:
        return None
    row = db.exec(select(XidAllow).where(XidAllow.assembly_id == assembly.id, XidAllow.xid == xid)).first()
    if row is None or not hmac.compare_digest(key_for(row), key):
        return None
    return row


def admitted(db: Session, assembly: Assembly, participant: Participant) -> bool:
    """May `participant` take part? Always in an open assembly; by a current invitation in an invitation-only one."""
    if not assembly.xid_required:
        return True
    if not participant.xid or not participant.invite_nonce:
        return False
    row = db.exec(select(XidAllow.id).where(
        XidAllow.assembly_id == assembly.id, XidAllow.xid == participant.xid,
        XidAllow.nonce == participant.invite_nonce)).first()
    return row is not None


def require_admitted(db: Session, assembly: Assembly, participant: Participant) -> None:
    """403 when `participant` may not take part in an invitation-only assembly (no current invitation)."""
    if not admitted(db, assembly, participant):
        raise AssemblyError("this assembly is by invitation; open your personal invite link again", 403,
                            explain=INVITATION_ONLY)
