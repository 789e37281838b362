"""Facilitator pages to seed statements in bulk and moderate them (accept, reject, mark meta).

The work is done by `facilitation.rules` (the same functions as the API's): seeding
checks every line with the participants' length and duplicate rules and adds the good
ones in one transaction; every rejected line is reported with its reason and kept in
the textarea to fix and resend.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.facilitation.blueprint import bp
from assembly.facilitation.forms import form_lines
from assembly.facilitation.rules import SEED_MAX, Seed, moderate_statement, seed_statements
from assembly.facilitation.stats import counts_for
from assembly.htmx import htmx
from assembly.models import Assembly, Moderation, Participant, Statement

PAGE_SIZE = 100


@bp.route("/<slug>/seed", methods=["GET", "POST"])
def seed(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    added: list[Statement] = []
    rejected: list[tuple[int, str, str]] = []  # (line number, text, reason)
    error, text = None, ""
    if request.method == "POST":
        lines = form_lines(request.form.get("statements", ""))
        if not lines:
            error = _("Paste at least one statement, one per line.")
        elif len(lines) > SEED_MAX:
            error = _("At most %(max)d statements at a time, please.", max=SEED_MAX)
        else:
            result = seed_statements(get_session(), assembly, [Seed(text=line, line=n) for n, line in lines],
                                     all_or_none=False)
            added = result.added
            rejected = [(s.line, s.text, exc.message) for s, exc in result.rejected]
            # Keep only the rejected lines, so fixing them and sending again adds nothing twice.
            text = "\n".join(line for _n, line, _reason in rejected)
        if error:
            text = request.form.get("statements", "")
    status = 400 if error or (request.method == "POST" and not added) else 200
    return render_template(
        "facilitator/seed.html", assembly=assembly, added=added, rejected=rejected, error=error, text=text,
    ), status


def _author_pids(statements: list[Statement]) -> dict[int, int]:
    """{participant id: pid} of the statements' authors, for display."""
    ids = {s.author_id for s in statements if s.author_id is not None}
    if not ids:
        return {}
    return dict(get_session().exec(select(Participant.id, Participant.pid).where(Participant.id.in_(ids))).all())


def _state_arg(raw: str | None) -> Moderation:
    try:
        return Moderation(raw or Moderation.pending.value)
    except ValueError:
        abort(400, _("Unknown moderation state."))


@bp.get("/<slug>/moderation")
def moderation(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    state = _state_arg(request.args.get("state"))
    try:
        page = min(max(int(request.args.get("page", "1")), 1), 10**9)  # an offset SQLite can hold
    except ValueError:
        abort(400, _("The page must be a number."))
    db = get_session()
    where = (Statement.assembly_id == assembly.id, Statement.moderation == state)
    total = db.exec(select(func.count()).select_from(Statement).where(*where)).one()
    # The queue is worked oldest first; decided statements show the newest first.
    order = Statement.tid if state == Moderation.pending else Statement.tid.desc()
    statements = list(db.exec(select(Statement).where(*where).order_by(order)
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return render_template(
        "facilitator/moderation.html",
        assembly=assembly, state=state, statements=statements, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        counts=counts_for(db, [assembly.id])[assembly.id], authors=_author_pids(statements),
    )


# Each form action as the change it asks of `moderate_statement`.
_ACTIONS: dict[str, dict[str, object]] = {
    "accept": {"moderation": Moderation.accepted},
    "reject": {"moderation": Moderation.rejected},
    "pending": {"moderation": Moderation.pending},
    "meta": {"is_meta": True},
    "unmeta": {"is_meta": False},
}


def _message(statement: Statement, action: str) -> str:
    return {
        "accept": _("Statement #%(tid)d accepted.", tid=statement.tid),
        "reject": _("Statement #%(tid)d rejected.", tid=statement.tid),
        "pending": _("Statement #%(tid)d is back in the queue.", tid=statement.tid),
        "meta": _("Statement #%(tid)d marked as meta.", tid=statement.tid),
        "unmeta": _("Statement #%(tid)d is no longer meta.", tid=statement.tid),
    }[action]


@bp.post("/<slug>/statements/<int:tid>/moderate")
def moderate(slug: str, tid: int):
    """Change one statement's moderation; htmx gets the row back, a plain form post a redirect."""
    assembly: Assembly = load_assembly(slug, check_owner=True)
    action = request.form.get("action", "")
    if action not in _ACTIONS:
        abort(400, _("Unknown moderation action."))
    db = get_session()
    try:
        statement = moderate_statement(db, assembly, tid, **_ACTIONS[action])
    except AssemblyError:
        abort(404, _("There is no statement #%(tid)d in this assembly.", tid=tid))
    message = _message(statement, action)
    # The list the facilitator was looking at, so they return to it.
    shown = _state_arg(request.form.get("state") or statement.moderation.value)
    if htmx:
        return render_template(
            "facilitator/_statement_row.html", assembly=assembly, s=statement, message=message, state=shown,
            authors=_author_pids([statement]), counts=counts_for(db, [assembly.id])[assembly.id], oob=True,
        )
    flash(message)
    return redirect(url_for("facilitator.moderation", slug=assembly.slug, state=shown.value))
