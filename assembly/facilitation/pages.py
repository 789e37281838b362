"""Facilitator pages: their assemblies, create and edit, open and close, live counts.

Seeding and moderation live in moderation.py, invitations in
invites.py; both add routes to this blueprint (registered in
`init_app`). Every page needs a logged-in facilitator, and every page about one
assembly goes through `load_assembly(slug, check_owner=True)`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator
from assembly.db import get_session
from assembly.facilitation import invites, moderation, tokens  # noqa: F401 - they add their routes to `bp`
from assembly.facilitation.blueprint import bp, participant_url
from assembly.facilitation.forms import LENGTH_DEFAULT, language_choices, parse_assembly_form
from assembly.facilitation.stats import counts_for, day_chart, votes_per_day
from assembly.models import Assembly, Moderation, Statement


def _owned_assemblies() -> list[Assembly]:
    query = select(Assembly).where(Assembly.owner_id == current_facilitator().id).order_by(Assembly.created_at.desc())
    return list(get_session().exec(query))


@bp.get("/")
def index():
    assemblies = _owned_assemblies()
    counts = counts_for(get_session(), [a.id for a in assemblies])
    return render_template("facilitator/index.html", assemblies=assemblies, counts=counts)


@bp.get("/rows")
def rows():
    """The home page's table body, polled by htmx so the counts stay live."""
    assemblies = _owned_assemblies()
    counts = counts_for(get_session(), [a.id for a in assemblies])
    return render_template("facilitator/_rows.html", assemblies=assemblies, counts=counts)


_FORM_DEFAULTS: dict[str, Any] = {
    "slug": "", "title": "", "question": "", "description": "", "language": "en",
    "strict_moderation": False, "participants_can_write": True, "statement_max_length": LENGTH_DEFAULT,
    "is_open": True,
}


def _form_values(assembly: Assembly) -> dict[str, Any]:
    return {name: getattr(assembly, name) for name in _FORM_DEFAULTS}


@bp.route("/new", methods=["GET", "POST"])
def create():
    values, errors = dict(_FORM_DEFAULTS), {}
    if request.method == "POST":
        parsed = parse_assembly_form(get_session(), request.form)
        values, errors = parsed.values, parsed.errors
        if not errors:
            db = get_session()
            assembly = Assembly(**values, owner_id=current_facilitator().id)
            db.add(assembly)
            try:
                db.commit()
            except IntegrityError:  # another request took the slug since we checked
                db.rollback()
                errors["slug"] = _("Another assembly already uses this short name.")
            else:
                flash(_("Assembly created."))
                return redirect(url_for("facilitator.assembly", slug=assembly.slug))
    status = 400 if errors else 200
    return render_template("facilitator/form.html", values=values, errors=errors, assembly=None,
                           languages=language_choices()), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    values, errors = _form_values(assembly), {}
    if request.method == "POST":
        db = get_session()
        parsed = parse_assembly_form(db, request.form, current=assembly)
        values, errors = parsed.values, parsed.errors
        if not errors:
            for name, value in values.items():
                setattr(assembly, name, value)
            db.add(assembly)
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                db.refresh(assembly)
                errors["slug"] = _("Another assembly already uses this short name.")
            else:
                flash(_("Changes saved."))
                return redirect(url_for("facilitator.assembly", slug=assembly.slug))
    status = 400 if errors else 200
    return render_template("facilitator/form.html", values=values, errors=errors, assembly=assembly,
                           languages=language_choices(assembly)), status


def _stats_context(assembly: Assembly) -> dict[str, Any]:
    db = get_session()
    return {
        "assembly": assembly,
        "counts": counts_for(db, [assembly.id])[assembly.id],
        "chart": day_chart(votes_per_day(db, assembly.id, days=14)),
    }


@bp.get("/<slug>/")
def assembly(slug: str):
    assembly = load_assembly(slug, check_owner=True)
    pending = get_session().exec(
        select(Statement)
        .where(Statement.assembly_id == assembly.id, Statement.moderation == Moderation.pending)
        .order_by(Statement.tid)
        .limit(5)
    ).all()
    return render_template(
        "facilitator/assembly.html",
        **_stats_context(assembly),
        pending=pending,
        participant_link=participant_url(assembly),
        export_link=url_for("polis_export.export_zip", slug=assembly.slug),
    )


@bp.get("/<slug>/stats")
def stats(slug: str):
    """Live counts partial, polled every 5 s by the assembly page."""
    return render_template("facilitator/_stats.html", **_stats_context(load_assembly(slug, check_owner=True)))


def _set_open(slug: str, is_open: bool):
    assembly = load_assembly(slug, check_owner=True)
    db = get_session()
    assembly.is_open = is_open
    db.add(assembly)
    db.commit()
    flash(_("The assembly is open: participants can vote.") if is_open else _("The assembly is closed to new votes."))
    return redirect(url_for("facilitator.assembly", slug=assembly.slug))


@bp.post("/<slug>/close")
def close(slug: str):
    return _set_open(slug, False)


@bp.post("/<slug>/reopen")
def reopen(slug: str):
    return _set_open(slug, True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
