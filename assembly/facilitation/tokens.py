"""The facilitator's API tokens page: what each token is for, when it expires, revoke buttons.

Tokens are issued on the command line (`flask facilitator token EMAIL`), where they are shown
once; this page never shows a token, only its name and dates, so it can be opened anywhere.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlmodel import select

from assembly.auth import current_facilitator, revoke_token, token_state
from assembly.db import get_session
from assembly.facilitation.blueprint import bp
from assembly.models import ApiToken


@bp.get("/tokens")
def tokens():
    """The logged-in facilitator's API tokens, newest first."""
    fac = current_facilitator()
    rows = get_session().exec(
        select(ApiToken).where(ApiToken.facilitator_id == fac.id).order_by(ApiToken.id.desc())).all()
    return render_template("facilitator/tokens.html", rows=[(row, token_state(row)) for row in rows])


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    """Revoke one of your own tokens; someone else's is a 404, as if it did not exist."""
    row = revoke_token(get_session(), token_id, facilitator_id=current_facilitator().id)
    if row is None:
        abort(404)
    flash(_("Token %(name)s revoked; it no longer works.", name=row.name))
    return redirect(url_for("facilitator.tokens"))
