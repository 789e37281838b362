"""Invitations: the participant link, the external-id (xid) allow-list and per-xid invite links.

When `xid_required` is on, only ids on the allow-list can join (enforced by
`voting.rules.create_participant`); each person gets their own link
/a/<slug>?xid=<id>&invite=<key>, the key signed (assembly/invitations.py) so that guessing an
id gets no one in. Removing an id, or giving it a new link, revokes its old link. A pasted
list behaves like seeding: the good lines are added, each bad or repeated line is reported
with its line number and left in the box to fix.
"""

from __future__ import annotations

import csv
import io
import secrets

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlmodel import select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.facilitation.blueprint import bp, participant_url
from assembly.facilitation.forms import parse_xids
from assembly.guards import bulk_body
from assembly.invitations import key_for
from assembly.models import Assembly, Participant, XidAllow
from assembly.polis.export import spreadsheet_cell


def _allowed(assembly: Assembly) -> list[XidAllow]:
    return list(get_session().exec(select(XidAllow).where(XidAllow.assembly_id == assembly.id).order_by(XidAllow.id)))


def _render(assembly: Assembly, *, errors: list[str] | None = None, text: str = "", status: int = 200,
            rejected: list[tuple[int, str, str]] | None = None):
    allowed = _allowed(assembly)
    joined = set(get_session().exec(
        select(Participant.xid).where(Participant.assembly_id == assembly.id, Participant.xid.is_not(None))
    ))
    return render_template(
        "facilitator/invites.html", assembly=assembly, allowed=allowed, joined=joined, errors=errors or [],
        rejected=rejected or [], text=text, participant_link=participant_url(assembly),
        invite_links={row.xid: participant_url(assembly, row.xid, key_for(row)) for row in allowed},
    ), status


@bp.get("/<slug>/invites")
def invites(slug: str):
    return _render(load_assembly(slug, check_owner=True))


@bp.post("/<slug>/invites/add")
@bulk_body
def add_xids(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    text = request.form.get("xids", "")
    existing = {row.xid for row in _allowed(assembly)}
    new, already, rejected = parse_xids(text, existing)
    if not new and not already and not rejected:
        return _render(assembly, errors=[_("Paste at least one id, one per line.")], text=text, status=400)
    db = get_session()
    db.add_all(XidAllow(assembly_id=assembly.id, xid=xid) for xid in new)
    db.commit()
    flash(ngettext("%(num)d id added to the allow-list.", "%(num)d ids added to the allow-list.", len(new)))
    if already:
        flash(ngettext("%(num)d id was already on the list.", "%(num)d ids were already on the list.", len(already)))
    if rejected:
        # Only the rejected lines stay in the box, so sending it again adds nothing twice.
        status = 200 if new or already else 400
        return _render(assembly, rejected=rejected, text="\n".join(line for _n, line, _r in rejected), status=status)
    return redirect(url_for("facilitator.invites", slug=assembly.slug))


def _invitee(db, assembly, xid: str) -> XidAllow | None:
    return db.exec(select(XidAllow).where(XidAllow.assembly_id == assembly.id, XidAllow.xid == xid)).first()


@bp.post("/<slug>/invites/remove")
def remove_xid(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    xid = request.form.get("xid", "")
    db = get_session()
    row = _invitee(db, assembly, xid)
    if row is None:
        return _render(assembly, errors=[_("%(xid)s is not on the allow-list.", xid=xid)], status=400)
    db.delete(row)
    db.commit()
    # Their participant and votes stay, but their link is revoked: no more votes under it
    # while an invitation is required (invitations.admitted), and no new join with it.
    flash(_("%(xid)s removed from the allow-list.", xid=xid))
    return redirect(url_for("facilitator.invites", slug=assembly.slug))


@bp.post("/<slug>/invites/renew")
def renew_link(slug: str):
    """A new link for one invitee (the old one was forwarded or leaked): the old link stops working."""
    assembly = load_assembly(slug, check_owner=True)
    xid = request.form.get("xid", "")
    db = get_session()
    row = _invitee(db, assembly, xid)
    if row is None:
        return _render(assembly, errors=[_("%(xid)s is not on the allow-list.", xid=xid)], status=400)
    row.nonce = secrets.token_hex(8)
    db.add(row)
    db.commit()
    flash(_("%(xid)s has a new invite link; the old one no longer works.", xid=xid))
    return redirect(url_for("facilitator.invites", slug=assembly.slug))


@bp.post("/<slug>/invites/required")
def set_xid_required(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    value = request.form.get("xid_required", "")
    if value not in {"0", "1"}:
        return _render(assembly, errors=[_("Choose whether an invitation is required.")], status=400)
    db = get_session()
    assembly.xid_required = value == "1"
    db.add(assembly)
    db.commit()
    if assembly.xid_required:
        flash(_("Only invited ids can take part now."))
    else:
        flash(_("Anyone with the link can take part now."))
    return redirect(url_for("facilitator.invites", slug=assembly.slug))


@bp.get("/<slug>/invites.csv")
def invites_csv(slug: str):
    """The allow-list with each person's link, for a mail merge."""
    assembly = load_assembly(slug, check_owner=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["xid", "link"])
    for row in _allowed(assembly):
        # Opened in a spreadsheet for a mail merge: an id like =HYPERLINK(...) must not run as a formula.
        writer.writerow([spreadsheet_cell(row.xid), participant_url(assembly, row.xid, key_for(row))])
    return Response(
        buf.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{assembly.slug}-invites.csv"'},
    )
