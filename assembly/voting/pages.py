"""Participant pages: read the question, vote one statement at a time, add statements.

Every action is a plain form POST answered with a redirect (Post/Redirect/Get), so
the pages work without JavaScript. htmx sends the same forms with an
`HX-Request` header and gets back only the fragment that changed. A refused
action answers with its HTTP status and a message: htmx swaps it in (static/app.js
lets 4xx responses swap), a plain POST gets the page again with the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlmodel import Session, select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.errors import render_error_page
from assembly.htmx import htmx
from assembly.invitations import valid_invitation
from assembly.models import AGREE, DISAGREE, PASS, Assembly, Moderation, Participant, Statement
from assembly.security import limiter, statements_limit, votes_limit
from assembly.voting.identity import current_participant, held_invitation, remember_invitation
from assembly.voting.latest_votes import latest_votes
from assembly.voting.next_statement import next_with_progress
from assembly.voting.rules import (
    AssemblyError,
    add_statement,
    check_statement,
    check_vote,
    record_vote,
    visible,
)

bp = Blueprint("participant", __name__)

# Vote value -> (label, CSS class); the order is the order of the buttons.
VOTE_CHOICES = {
    AGREE: (lazy_gettext("Agree"), "agree"),
    DISAGREE: (lazy_gettext("Disagree"), "disagree"),
    PASS: (lazy_gettext("Pass / Unsure"), "pass"),
}

STATEMENT_FLASH = "statement"  # flash category shown inside the write form, not at the top of the page

def invitation_problem(db: Session, assembly: Assembly, participant: Participant | None) -> str | None:
    """Why this browser may not take part in an invitation-only assembly, or None when it may."""
    if not assembly.xid_required or participant is not None:  # current_participant returns admitted ones only
        return None
    xid, invite = held_invitation(assembly)
    if not xid:
        return _("This assembly is by invitation only. Please open the personal link you were sent.")
    if valid_invitation(db, assembly, xid, invite) is None:
        return _("Your invitation link is not valid for this assembly. Please check the link you were sent.")
    return None


def voting_context(db: Session, assembly: Assembly) -> dict:
    """What the progress bar, the statement card and the write form need."""
    participant = current_participant(db, assembly)
    blocked = invitation_problem(db, assembly, participant)
    can_take_part = assembly.is_open and blocked is None
    statement, done, total = next_with_progress(db, assembly, participant, pick=can_take_part)
    return {
        "assembly": assembly,
        "participant": participant,
        "blocked": blocked,
        "can_take_part": can_take_part,
        "can_write": can_take_part and assembly.participants_can_write,
        "statement": statement,
        "done": done,
        "total": total,
        "choices": VOTE_CHOICES,
    }


def render_assembly(assembly: Assembly, *, status: int = 200, notice: str | None = None,
                    form_error: str | None = None, form_text: str = ""):
    """The whole assembly page, also after a refused plain POST (then with its message and status)."""
    context = voting_context(get_session(), assembly)
    if context["blocked"] and status == 200:
        status = 403
    if form_error and not context["can_write"]:  # no write form to show it beside: the page's notice says it
        notice, form_error = notice or form_error, None
    return render_template(
        "participant/assembly.html", notice=notice, form_error=form_error, form_text=form_text,
        lang_path=url_for(".assembly", slug=assembly.slug), **context,
    ), status


@dataclass
class VoteRow:
    """One line of "My votes"."""

    statement: Statement
    value: int
    can_change: bool
    note: str = ""


def my_votes(db: Session, assembly: Assembly, participant: Participant | None) -> list[VoteRow]:
    """The participant's current vote on each statement they voted on, by statement number."""
    if participant is None:
        return []
    latest = latest_votes(db, assembly.id, participant.id)
    by_statement = {sid: value for (_pid, sid), value in latest.items()}
    if not by_statement:
        return []
    statements = db.exec(
        select(Statement).where(Statement.id.in_(list(by_statement))).order_by(Statement.tid)
    ).all()
    rows = []
    for st in statements:
        mine = st.author_id == participant.id
        shown = visible(st, assembly)
        note = ""
        if st.moderation == Moderation.rejected:
            note = _("A facilitator has removed this statement.")
        elif not shown:  # pending under strict moderation; only its author voted on it
            note = _("Your statement is waiting for a facilitator's review.")
        rows.append(VoteRow(st, by_statement[st.id], assembly.is_open and (shown or mine), note))
    return rows


def render_votes(assembly: Assembly, *, status: int = 200, notice: str | None = None, saved_tid: int | None = None):
    """The "My votes" page of this browser's participant."""
    db = get_session()
    participant = current_participant(db, assembly)
    return render_template(
        "participant/votes.html", assembly=assembly, rows=my_votes(db, assembly, participant),
        choices=VOTE_CHOICES, notice=notice, saved_tid=saved_tid,
        lang_path=url_for(".votes", slug=assembly.slug),
    ), status


def refuse(assembly: Assembly, message: str, status: int):
    """Answer a refused action: htmx gets a fragment to swap, a plain POST the page again."""
    get_session().rollback()
    if request.endpoint == "participant.add":
        text = request.form.get("text", "")
        if htmx:
            return render_template("participant/_write.html", assembly=assembly, can_write=True,
                                   form_error=message, form_text=text), status
        return render_assembly(assembly, status=status, form_error=message, form_text=text)
    if htmx:
        # The card (or the vote row) stays as it was, so the participant can try again.
        headers = {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"}
        return render_template("participant/_notice.html", message=message), status, headers
    if request.form.get("back") == "mine":
        return render_votes(assembly, status=status, notice=message)
    return render_assembly(assembly, status=status, notice=message)


def parse_vote() -> tuple[int, int]:
    """(statement tid, vote value) from the vote form."""
    try:
        tid = int(request.form.get("tid", ""))
        value = int(request.form.get("value", ""))
    except ValueError:
        raise AssemblyError("a vote is 1 (agree), -1 (disagree) or 0 (pass)",
                            explain=lazy_gettext("Please choose Agree, Disagree or Pass.")) from None
    return tid, value


@bp.get("/")
def index():
    """Landing page: the assemblies open right now."""
    open_assemblies = get_session().exec(
        # Invitation-only assemblies are not advertised: their people come through their own links.
        select(Assembly)
        .where(Assembly.is_open == True, Assembly.xid_required == False)  # noqa: E712
        .order_by(Assembly.created_at.desc())
    ).all()
    return render_template("participant/index.html", assemblies=open_assemblies)


@bp.get("/a/<slug>")
def assembly(slug: str):
    """The assembly: its question, one statement to vote on, progress and the write form."""
    assembly = load_assembly(slug)
    if "xid" in request.args:
        # An invite link: remember the id and its key for when the participant is created on their
        # first vote, then show the clean address so the key is not copied along with the link.
        remember_invitation(slug, request.args["xid"].strip(), request.args.get("invite", "").strip())
        keep = {k: v for k, v in request.args.items() if k == "lang"}
        return redirect(url_for(".assembly", slug=slug, **keep))
    return render_assembly(assembly)


@bp.post("/a/<slug>/vote")
@limiter.limit(votes_limit)
def vote(slug: str):
    """Record a vote, then show the next statement (or, from "My votes", the changed row)."""
    assembly = load_assembly(slug)
    db = get_session()
    back_to_mine = request.form.get("back") == "mine"
    try:
        tid, value = parse_vote()
        participant = current_participant(
            db, assembly, create=True, before_create=lambda: check_vote(db, assembly, tid, value)
        )
        record_vote(db, assembly, participant, tid, value)
    except AssemblyError as e:
        return refuse(assembly, e.explanation, e.status)
    if not htmx:
        if back_to_mine:
            return redirect(url_for(".votes", slug=slug))
        return redirect(url_for(".assembly", slug=slug, _anchor="card"))
    if back_to_mine:
        row = next(r for r in my_votes(db, assembly, participant) if r.statement.tid == tid)
        return render_template("participant/_vote_row.html", assembly=assembly, row=row,
                               choices=VOTE_CHOICES, saved_tid=tid)
    return render_template("participant/_card.html", oob_progress=True, **voting_context(db, assembly))


@bp.post("/a/<slug>/statements")
@limiter.limit(statements_limit)
def add(slug: str):
    """Add the participant's statement (with their agree vote); strict moderation holds it for review."""
    assembly = load_assembly(slug)
    db = get_session()
    try:
        text = request.form.get("text", "")
        participant = current_participant(
            db, assembly, create=True, before_create=lambda: check_statement(db, assembly, text)
        )
        statement = add_statement(db, assembly, text, author=participant)
    except AssemblyError as e:
        return refuse(assembly, e.explanation, e.status)
    if statement.moderation == Moderation.pending and assembly.strict_moderation:
        message = _("Thank you! A facilitator will review your statement before others can vote on it.")
    else:
        message = _("Thank you! Your statement was added, and counts as your agree vote.")
    if not htmx:
        flash(message, STATEMENT_FLASH)
        return redirect(url_for(".assembly", slug=slug, _anchor="write"))
    context = voting_context(db, assembly)
    return render_template("participant/_write.html", success=message, oob_progress=True, **context)


@bp.get("/a/<slug>/votes")
def votes(slug: str):
    """My votes: each statement the participant voted on, with buttons to change the vote."""
    return render_votes(load_assembly(slug))


@bp.errorhandler(AssemblyError)
def assembly_error(e: AssemblyError):
    """An unknown assembly and the like: the site's error page, with the reason in the page's language."""
    return render_error_page(e.status, str(e.explanation))


@bp.errorhandler(429)
def too_many(_e):
    """Rate limit hit: a friendly message; a refused statement keeps its text."""
    return _refuse_with(lazy_gettext("You are going a little fast. Please wait a minute, then try again."), 429)


@bp.errorhandler(CSRFError)
def form_expired(_e):
    """A form without a valid CSRF token: usually a page left open too long."""
    return _refuse_with(lazy_gettext("This page has expired. Please reload the page and try again."), 400)


def _refuse_with(message, status: int):
    """Refuse in the page's language, with the assembly's page when the URL names one."""
    try:
        assembly = load_assembly((request.view_args or {}).get("slug", ""))
    except AssemblyError:
        return render_error_page(status, str(message))
    return refuse(assembly, str(message), status)


def statement_flashes() -> list[str]:
    """Messages for the write form, left out of the page-top flashes in base.html."""
    return get_flashed_messages(category_filter=[STATEMENT_FLASH])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # base.html (every page, not only this blueprint's) needs the locale for <html lang> and the switcher.
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["statement_flashes"] = statement_flashes
