"""Pages for community-written eval items: the participants' queue and the facilitator's moderation.

The participant page works like the voting page: every action is a plain form POST answered
with a redirect, and htmx sends the same forms with `HX-Request` to get back only the card or
the propose form. A refused action answers with its status and the message beside the form.
"""

from __future__ import annotations

from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.evals import community
from assembly.htmx import htmx
from assembly.models import Assembly
from assembly.security import limiter, statements_limit, votes_limit
from assembly.voting.identity import current_participant
from assembly.voting.pages import VOTE_CHOICES, invitation_problem

bp = Blueprint("evals_items", __name__)

ITEM_FLASH = "item"  # shown inside the propose form


def _context(assembly: Assembly) -> dict:
    db = get_session()
    participant = current_participant(db, assembly)
    blocked = invitation_problem(db, assembly, participant)
    can_take_part = assembly.is_open and blocked is None
    item, done, total = community.next_item(db, assembly, participant)
    return {"assembly": assembly, "participant": participant, "blocked": blocked, "can_take_part": can_take_part,
            "can_write": can_take_part and assembly.participants_can_write, "item": item if can_take_part else None,
            "done": done, "total": total, "choices": VOTE_CHOICES, "limits": (community.PROMPT_MAX,
                                                                               community.ANSWER_MAX)}


def _page(assembly: Assembly, *, status: int = 200, notice: str | None = None, form_error: str | None = None,
          form: dict | None = None):
    context = _context(assembly)
    if context["blocked"] and status == 200:
        status = 403
    if form_error and not context["can_write"]:
        notice, form_error = notice or form_error, None
    return render_template("evals/items.html", notice=notice, form_error=form_error, form=form or {},
                           flashed=get_flashed_messages(category_filter=[ITEM_FLASH]),
                           lang_path=url_for(".items", slug=assembly.slug), **context), status


@bp.get("/a/<slug>/items")
def items(slug: str):
    """The item queue: one item to vote on, progress, and the form to propose one."""
    return _page(load_assembly(slug))


@bp.post("/a/<slug>/items/vote")
@limiter.limit(votes_limit)
def vote(slug: str):
    """Record the participant's vote on an item (a second vote changes the first), then the next item."""
    assembly = load_assembly(slug)
    db = get_session()
    try:
        try:
            item_id, value = int(request.form.get("item", "")), int(request.form.get("value", ""))
        except ValueError:
            raise AssemblyError("a vote names an item and is 1, -1 or 0", explain=lazy_gettext(
                "Please choose Agree, Disagree or Pass.")) from None
        participant = current_participant(
            db, assembly, create=True, before_create=lambda: community.votable(db, assembly, item_id, value, None))
        community.vote(db, assembly, participant, item_id, value)
    except AssemblyError as exc:
        db.rollback()
        if htmx:
            headers = {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"}
            return render_template("participant/_notice.html", message=exc.explanation), exc.status, headers
        return _page(assembly, status=exc.status, notice=exc.explanation)
    if not htmx:
        return redirect(url_for(".items", slug=slug, _anchor="card"))
    return render_template("evals/_item_card.html", oob_progress=True, **_context(assembly))


@bp.post("/a/<slug>/items")
@limiter.limit(statements_limit)
def propose(slug: str):
    """Propose an item (prompt, good answer, bad answer); it counts as the author's agree vote."""
    assembly = load_assembly(slug)
    db = get_session()
    f = request.form
    form = {k: f.get(k, "") for k in ("prompt", "good", "bad")}
    try:
        participant = current_participant(db, assembly, create=True,
                                          before_create=lambda: community.check_item(db, assembly, **form))
        item = community.propose(db, assembly, **form, author=participant)
    except AssemblyError as exc:
        db.rollback()
        if htmx:
            return render_template("evals/_item_write.html", assembly=assembly, can_write=True,
                                   form_error=exc.explanation, form=form,
                                   limits=(community.PROMPT_MAX, community.ANSWER_MAX)), exc.status
        return _page(assembly, status=exc.status, form_error=exc.explanation, form=form)
    if item.moderation == "pending":
        message = _("Thank you! A facilitator will review your item before others can vote on it.")
    else:
        message = _("Thank you! Your item was added, and counts as your agree vote.")
    if not htmx:
        flash(message, ITEM_FLASH)
        return redirect(url_for(".items", slug=slug, _anchor="propose"))
    return render_template("evals/_item_write.html", success=message, oob_progress=True, form={},
                           **_context(assembly))


def _facilitate(assembly: Assembly, error: str | None = None, status: int = 200, form: dict | None = None):
    a = community.assessment(get_session(), assembly)
    return render_template("evals/items_facilitate.html", assembly=assembly, assessed=a, error=error,
                           form=form or {}), status


@bp.get("/facilitate/<slug>/evals/items")
@login_required
def moderation(slug: str):
    """Every item with its votes overall and per group, its decision, and accept / reject buttons."""
    return _facilitate(load_assembly(slug, check_owner=True))


@bp.post("/facilitate/<slug>/evals/items")
@login_required
def facilitator_propose(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    form = {k: request.form.get(k, "") for k in ("prompt", "good", "bad")}
    try:
        community.propose(db, a, **form, filed_by=current_facilitator().id)
    except AssemblyError as exc:
        db.rollback()
        return _facilitate(a, exc.message, exc.status, form)
    return redirect(url_for(".moderation", slug=slug), 303)


@bp.post("/facilitate/<slug>/evals/items/<int:item_id>/moderation")
@login_required
def moderate(slug: str, item_id: int):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    try:
        community.moderate(db, a, item_id, request.form.get("moderation", ""))
    except AssemblyError as exc:
        db.rollback()
        return _facilitate(a, exc.message, exc.status)
    return redirect(url_for(".moderation", slug=slug), 303)
