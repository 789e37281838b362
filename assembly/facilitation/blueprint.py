"""The facilitator blueprint and what all its pages share; pages.py, moderation.py and invites.py add routes.

Its own module so those three import it without importing each other (no import cycle
behind a deferred import).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, url_for

from assembly.auth import login_required
from assembly.models import Assembly

bp = Blueprint("facilitator", __name__, url_prefix="/facilitate")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every facilitator page, present and future, needs a logged-in facilitator."""
    return None


def participant_url(assembly: Assembly, xid: str | None = None, invite: str | None = None) -> str:
    """Absolute link participants open (the assembly page), with a personal `xid` and its invite key."""
    url = url_for("participant.assembly", slug=assembly.slug, _external=True)
    if xid is None:
        return url
    url = f"{url}?xid={quote(xid, safe='')}"
    return f"{url}&invite={quote(invite, safe='')}" if invite else url
