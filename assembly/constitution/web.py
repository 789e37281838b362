"""Constitution pages: public published versions with JSON/Markdown exports; the facilitator's review.

Review actions are plain form posts (redirect after success) that htmx upgrades to in-place
swaps of the draft section; a bad request answers 4xx with the message and changes nothing.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.constitution import versions
from assembly.constitution.build import build_draft, current_draft
from assembly.constitution.export import to_json, to_markdown
from assembly.constitution.groups import NoGroupsError, current_groups
from assembly.constitution.readable import explain
from assembly.constitution.review_words import diff_sentences, review_sentences
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.htmx import htmx, page_or_fragment
from assembly.models import Assembly
from assembly.results.vote_snapshot import counted_vote_events

bp = Blueprint("constitution", __name__)


def _reasons() -> dict[str, str]:
    """Why a statement was not taken, in the UI language (exports keep export.REASON_TEXT's English)."""
    return {
        "moderated_out": _("moderated out"),
        "too_few_votes": _("too few votes"),
        "divisive": _("divisive between groups"),
        "low_agreement": _("low agreement"),
        "excluded_by_facilitator": _("excluded by the facilitators"),
    }


def _published_or_404(a: Assembly, number: int | None):
    v = versions.published(get_session(), a.id, number)
    if v is None:
        abort(404, description=_("No published constitution yet.") if number is None
              else _("There is no version %(n)s.", n=number))
    return v


@bp.get("/a/<slug>/constitution")
def latest(slug: str):
    a = load_assembly(slug)
    return _public_page(a, _published_or_404(a, None))


@bp.get("/a/<slug>/constitution/v/<int:number>")
def version_page(slug: str, number: int):
    a = load_assembly(slug)
    return _public_page(a, _published_or_404(a, number))


def _public_page(a: Assembly, v):
    doc = versions.exported(v)
    others = [x.number for x in versions.all_published(get_session(), a.id)]
    return render_template("constitution/public.html", assembly=a, doc=doc, others=others, reasons=_reasons(),
                           explain=explain)


@bp.get("/a/<slug>/constitution/v/<int:number>.json")
def version_json(slug: str, number: int):
    v = _published_or_404(load_assembly(slug), number)
    return Response(to_json(v), mimetype="application/json")


@bp.get("/a/<slug>/constitution/v/<int:number>.md")
def version_md(slug: str, number: int):
    v = _published_or_404(load_assembly(slug), number)
    return Response(to_markdown(v), mimetype="text/markdown; charset=utf-8")


def _review(a: Assembly, status: int = 200, error: str | None = None):
    """The review page, or only its draft section for htmx requests."""
    db = get_session()
    draft = current_draft(db, a)
    doc = json.loads(draft.document) if draft else None
    # Votes are append-only, so more vote events than the draft saw means it is out of date.
    new_votes = 0
    if doc is not None:
        new_votes = counted_vote_events(db, a.id) - doc["process"]["vote_events"]
    published = versions.all_published(db, a.id)
    since: list[str] = []
    if doc is not None and published:
        old = versions.load(published[-1])
        since = diff_sentences(versions.diff(old, doc), doc, old)
    template = page_or_fragment("constitution/review.html", "constitution/_draft.html")
    return render_template(template, assembly=a, doc=doc, draft=draft, error=error, reasons=_reasons(),
                           new_votes=new_votes, published=published, since=since,
                           review_log=review_sentences(doc) if doc else []), status


@bp.get("/facilitate/<slug>/constitution")
@login_required
def review(slug: str):
    return _review(load_assembly(slug, check_owner=True))


def _done(a: Assembly, message: str):
    if htmx:
        return _review(a)
    flash(message)
    return redirect(url_for("constitution.review", slug=a.slug))


def _failed(a: Assembly, message: str, status: int):
    return _review(a, status=status, error=message)


@bp.post("/facilitate/<slug>/constitution/build")
@login_required
def build(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    fresh = request.form.get("fresh", "")
    if fresh not in ("", "yes"):
        return _failed(a, _("Starting afresh is a yes-or-no choice."), 400)
    try:
        groups, info = current_groups(db, a)
        build_draft(db, a, groups, info, created_by=current_facilitator().id,
                    similarity=current_app.config["CONSTITUTION_SIMILARITY"], fresh=fresh == "yes")
    except (NoGroupsError, ValueError) as exc:
        db.rollback()
        return _failed(a, str(exc), 409)
    return _done(a, _("A new draft was built from the current votes."))


def _draft_or_409(a: Assembly):
    draft = current_draft(get_session(), a)
    if draft is None:
        raise AssemblyError(_("There is no draft: build one first."), 409)
    return draft


@bp.post("/facilitate/<slug>/constitution/principles/<principle_id>/<action>")
@login_required
def change(slug: str, principle_id: str, action: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    form = request.form
    try:
        draft = _draft_or_409(a)
        if action == "wording":
            versions.edit_wording(db, draft, principle_id, form.get("wording", ""))
        elif action == "merge":
            versions.merge(db, draft, principle_id, form.get("other", ""))
        elif action == "split":
            versions.split(db, draft, principle_id, _int(form.get("tid"), _("statement number")))
        elif action == "exclude":
            versions.exclude(db, draft, principle_id, form.get("reason", ""))
        elif action == "move":
            versions.move(db, draft, principle_id, _int(form.get("position"), _("position")))
        else:
            abort(404)
    except AssemblyError as exc:
        db.rollback()
        return _failed(a, exc.message, exc.status)
    return _done(a, _("Draft updated."))


def _int(value: str | None, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise AssemblyError(_("the %(what)s must be a whole number", what=what)) from None


@bp.post("/facilitate/<slug>/constitution/statements/<int:tid>/restore")
@login_required
def restore(slug: str, tid: int):
    """Bring back a statement the facilitators left out, as a principle of its own."""
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    try:
        versions.restore(db, _draft_or_409(a), tid)
    except AssemblyError as exc:
        db.rollback()
        return _failed(a, exc.message, exc.status)
    return _done(a, _("Statement brought back."))


@bp.post("/facilitate/<slug>/constitution/publish")
@login_required
def publish(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    # Publishing cannot be undone: the form's confirmation box must say so explicitly.
    if request.form.get("confirm") != "yes":
        return _failed(a, _("Publishing cannot be undone: tick the box to confirm, then publish."), 400)
    try:
        v = versions.publish(db, _draft_or_409(a))
    except AssemblyError as exc:
        return _failed(a, exc.message, exc.status)
    if htmx:
        resp = Response("", 204)
        resp.headers["HX-Redirect"] = url_for("constitution.version_page", slug=a.slug, number=v.number)
        return resp
    flash(_("Published version %(n)s.", n=v.number))
    return redirect(url_for("constitution.version_page", slug=a.slug, number=v.number))


@bp.get("/facilitate/<slug>/constitution/draft.<fmt>")
@login_required
def draft_export(slug: str, fmt: str):
    a = load_assembly(slug, check_owner=True)
    draft = current_draft(get_session(), a)
    if draft is None or fmt not in {"json", "md"}:
        abort(404)
    if fmt == "json":
        return Response(to_json(draft), mimetype="application/json")
    return Response(to_markdown(draft), mimetype="text/markdown; charset=utf-8")
