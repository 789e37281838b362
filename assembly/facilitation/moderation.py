"""Facilitator pages to seed statements in bulk and moderate them (accept, reject, mark meta).

The work is done by `facilitation.rules` (the same functions as the API's): seeding
checks every line with the participants' length and duplicate rules and adds the good
ones in one transaction; every rejected line is reported with its reason and kept in
the textarea to fix and resend.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlmodel import select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.facilitation.blueprint import bp
from assembly.facilitation.forms import form_lines
from assembly.facilitation.rules import (
    BULK_MAX,
    SEED_MAX,
    Seed,
    moderate_many,
    moderate_statement,
    seed_statements,
    set_blocked,
)
from assembly.facilitation.stats import counts_for
from assembly.htmx import htmx
from assembly.language_cli import detected_language
from assembly.models import Assembly, Moderation, Participant, Statement
from finetune.evals.langid import LABELS

PAGE_SIZE = 100
SEARCH_MAX = 200
LANG_SCAN = 5000  # statements the language filter looks at (detection runs on the text)
LANG_LABELS = LABELS  # what the language filter offers: the detector's labels


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


def _blocked_ids(assembly: Assembly) -> set[int]:
    """Participant ids of the assembly's blocked participants (their rows are marked on the page)."""
    return set(get_session().exec(select(Participant.id).where(Participant.assembly_id == assembly.id,
                                                                 Participant.blocked_at.is_not(None))).all())


def _state_arg(raw: str | None) -> Moderation:
    try:
        return Moderation(raw or Moderation.pending.value)
    except ValueError:
        abort(400, _("Unknown moderation state."))


@dataclass(frozen=True)
class Filters:
    """The moderation list's filters, validated; `args` gives them back for links and forms."""

    state: Moderation
    meta: str = ""  # "" any, "yes" meta only, "no" not meta
    lang: str = ""  # "" any, else a label of finetune.evals.langid.LABELS
    q: str = ""  # words the statement contains

    @property
    def args(self) -> dict[str, str]:
        out = {"state": self.state.value, "meta": self.meta, "lang": self.lang, "q": self.q}
        return {k: v for k, v in out.items() if v}


def _filters(source) -> Filters:
    """Read and check the filters from query arguments or a form; 400 on anything unexpected."""
    meta = source.get("meta", "")
    if meta not in ("", "yes", "no"):
        abort(400, _("The meta filter is yes, no or empty."))
    lang = source.get("lang", "")
    if lang not in ("", *LANG_LABELS):
        abort(400, _("Unknown language filter."))
    q = " ".join(source.get("q", "").split())
    if len(q) > SEARCH_MAX:
        abort(400, _("Search for at most %(max)d characters.", max=SEARCH_MAX))
    return Filters(_state_arg(source.get("state")), meta, lang, q)


def _like(text: str) -> str:
    """A LIKE pattern that matches `text` literally (% and _ escaped)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(assembly: Assembly, f: Filters, page: int) -> tuple[list[Statement], int]:
    """The page of statements the filters select, and how many there are in all."""
    db = get_session()
    where = [Statement.assembly_id == assembly.id, Statement.moderation == f.state]
    if f.meta:
        where.append(Statement.is_meta.is_(f.meta == "yes"))
    if f.q:
        where.append(Statement.text.ilike(_like(f.q), escape="\\"))
    # The queue is worked oldest first; decided statements show the newest first.
    order = Statement.tid if f.state == Moderation.pending else Statement.tid.desc()
    if not f.lang:
        total = db.exec(select(func.count()).select_from(Statement).where(*where)).one()
        rows = list(db.exec(select(Statement).where(*where).order_by(order)
                            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return rows, total
    # The language is detected from the text (cached), so it filters in Python over at most LANG_SCAN rows.
    rows = [s for s in db.exec(select(Statement).where(*where).order_by(order).limit(LANG_SCAN))
            if (detected_language(s.text) or ("",))[0] == f.lang]
    return rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], len(rows)


@bp.get("/<slug>/moderation")
def moderation(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    f = _filters(request.args)
    try:
        page = min(max(int(request.args.get("page", "1")), 1), 10**9)  # an offset SQLite can hold
    except ValueError:
        abort(400, _("The page must be a number."))
    db = get_session()
    statements, total = _filtered(assembly, f, page)
    blocked = list(db.exec(select(Participant).where(Participant.assembly_id == assembly.id,
                                                     Participant.blocked_at.is_not(None)).order_by(Participant.pid)))
    return render_template(
        "facilitator/moderation.html",
        assembly=assembly, state=f.state, filters=f, statements=statements, page=page, total=total,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), languages=LANG_LABELS, blocked=blocked,
        blocked_ids={p.id for p in blocked},
        counts=counts_for(db, [assembly.id])[assembly.id], authors=_author_pids(statements),
    )


def _back(assembly: Assembly, f: Filters):
    return redirect(url_for("facilitator.moderation", slug=assembly.slug, **f.args))


@bp.post("/<slug>/moderation/bulk")
def moderate_bulk(slug: str):
    """Accept or reject the ticked statements in one request; an unknown one refuses them all."""
    assembly = load_assembly(slug, check_owner=True)
    f = _filters(request.form)
    action = request.form.get("action", "")
    if action not in ("accept", "reject"):
        abort(400, _("Unknown moderation action."))
    try:
        tids = [int(t) for t in request.form.getlist("tid")]
    except ValueError:
        abort(400, _("Statement numbers are whole numbers."))
    if not tids:
        abort(400, _("Tick at least one statement first."))
    if len(tids) > BULK_MAX:
        abort(400, _("At most %(max)d statements at a time, please.", max=BULK_MAX))
    try:
        done = moderate_many(get_session(), assembly, tids, _ACTIONS[action]["moderation"])
    except AssemblyError as exc:
        abort(exc.status, _("Some ticked statements are not in this assembly; nothing was changed.")
              if exc.status == 404 else exc.message)
    flash(ngettext("%(num)d statement accepted.", "%(num)d statements accepted.", len(done)) if action == "accept"
          else ngettext("%(num)d statement rejected.", "%(num)d statements rejected.", len(done)))
    return _back(assembly, f)


@bp.post("/<slug>/participants/<int:pid>/<any(block, unblock):action>")
def block(slug: str, pid: int, action: str):
    """Block a participant (their statements and votes leave the groups, and are kept) or unblock them."""
    assembly = load_assembly(slug, check_owner=True)
    f = _filters(request.form)
    try:
        set_blocked(get_session(), assembly, pid, action == "block")
    except AssemblyError:
        abort(404, _("There is no participant %(pid)d in this assembly.", pid=pid))
    flash(_("Participant %(pid)d is blocked: their statements and votes no longer count.", pid=pid)
          if action == "block" else _("Participant %(pid)d is unblocked: their votes count again.", pid=pid))
    return _back(assembly, f)


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
            blocked_ids=_blocked_ids(assembly),
        )
    flash(message)
    return redirect(url_for("facilitator.moderation", slug=assembly.slug, state=shown.value))
