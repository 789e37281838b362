"""Human rating pages: the facilitator opens a round (/facilitate/SLUG/rating), participants rate (/a/SLUG/rate).

Participants see one prompt and two answers, "A" and "B", in the seeded blind order of
`finetune.evals.rating.blind_order`, and pick A, B or a tie. Every action is a plain form POST
answered with a redirect, so the page works without JavaScript; htmx sends the same form and gets
the next card back. Rating needs a participant who has already voted (their opinion group is
what the win rate is broken down by), so a page view never creates one.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from assembly.adapters import registry, tryit
from assembly.adapters.models import Adapter
from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.errors import render_error_page
from assembly.evals import rating
from assembly.evals.rating_models import RatingRound
from assembly.htmx import htmx
from assembly.models import Assembly
from assembly.security import limiter, votes_limit
from assembly.voting.identity import current_participant

bp = Blueprint("rating", __name__)


# -- facilitator ------------------------------------------------------------------------------------


def _overview(a: Assembly, error: str | None = None, status: int = 200, form=None):
    db = get_session()
    adapters = registry.visible_adapters(db, a, current_facilitator())
    chosen = None
    wanted = (form or request.args).get("adapter", type=int)
    if adapters:
        chosen = next((x for x in adapters if x.id == wanted), adapters[0])
    heldout = rating.heldout_statements(current_app, db, chosen) if chosen else []
    rounds = [(r, rating.status(db, r)) for r in rating.rounds_of(db, a)]
    names = {x.id: x.name for x in adapters}
    return render_template("evals/rating.html", assembly=a, adapters=adapters, chosen=chosen, heldout=heldout,
                           rounds=rounds, names=names, error=error, form=form or {},
                           max_prompts=rating.MAX_PROMPTS, default_tokens=rating.MAX_NEW_TOKENS,
                           max_tokens=tryit.MAX_NEW_TOKENS), status


@bp.get("/facilitate/<slug>/rating")
@login_required
def overview(slug: str):
    return _overview(load_assembly(slug, check_owner=True))


@bp.post("/facilitate/<slug>/rating")
@login_required
def open_round(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    adapter = db.get(Adapter, request.form.get("adapter", type=int) or 0)
    if adapter is None or adapter.assembly_id != a.id:
        return _overview(a, _("There is no such adapter in this assembly."), 422, request.form)
    try:
        tids = [int(t) for t in request.form.getlist("tid")]
    except ValueError:
        return _overview(a, _("A held-out statement number must be a whole number."), 422, request.form)
    tokens = request.form.get("max_new_tokens", type=int)
    if tokens is None and request.form.get("max_new_tokens"):
        return _overview(a, _("The answer length must be a whole number of tokens."), 422, request.form)
    try:
        rnd = rating.open_round(current_app, db, a, adapter, tids, request.form.get("prompts", ""),
                                created_by=current_facilitator().id,
                                max_new_tokens=tokens or rating.MAX_NEW_TOKENS)
    except AssemblyError as exc:
        db.rollback()
        return _overview(a, exc.message, exc.status, request.form)
    return redirect(url_for("rating.round_page", slug=slug, round_id=rnd.id), 303)


def _own_round(a: Assembly, round_id: int) -> RatingRound:
    rnd = get_session().get(RatingRound, round_id)
    if rnd is None or rnd.assembly_id != a.id:
        abort(404)
    return rnd


@bp.get("/facilitate/<slug>/rating/<int:round_id>")
@login_required
def round_page(slug: str, round_id: int):
    a = load_assembly(slug, check_owner=True)
    rnd = _own_round(a, round_id)
    res = rating.results(get_session(), rnd)
    template = "evals/_rating_round.html" if request.headers.get("HX-Request") else "evals/rating_round.html"
    return render_template(template, assembly=a, rnd=rnd, res=res,
                           rate_url=url_for("rating.rate", slug=a.slug, _external=True))


@bp.get("/facilitate/<slug>/rating/<int:round_id>.json")
@login_required
def round_json(slug: str, round_id: int):
    a = load_assembly(slug, check_owner=True)
    return jsonify(rating.results(get_session(), _own_round(a, round_id)))


@bp.post("/facilitate/<slug>/rating/<int:round_id>/close")
@login_required
def close(slug: str, round_id: int):
    a = load_assembly(slug, check_owner=True)
    rnd = _own_round(a, round_id)
    if not rnd.is_open:
        abort(409, _("This rating round is already closed."))
    rating.close_round(get_session(), rnd)
    return redirect(url_for("rating.round_page", slug=slug, round_id=round_id), 303)


# -- participants ----------------------------------------------------------------------------------


def _card_context(a: Assembly, prompt_id: int | None = None, notice: str | None = None) -> dict:
    db = get_session()
    participant = current_participant(db, a)
    rnd = rating.current_round(db, a)
    ctx = {"assembly": a, "participant": participant, "rnd": rnd, "notice": notice, "prompt": None,
           "mine": {}, "ready": []}
    if rnd is None or participant is None:
        return ctx
    ready = rating.ready_prompts(db, rnd)
    mine = rating.my_choices(db, rnd, participant)
    ctx.update(ready=ready, mine=mine)
    pick = next(((p, g) for p, g in ready if p.id == prompt_id), None) if prompt_id is not None else \
        next(((p, g) for p, g in ready if p.id not in mine), None)
    if pick is not None:
        p, g = pick
        first = rating.adapter_first(rnd, p, participant)
        answers = (g.adapter_answer, g.base_answer) if first else (g.base_answer, g.adapter_answer)
        current = mine.get(p.id)
        chosen = None
        if current is not None:
            chosen = "tie" if current.outcome == "tie" else ("A" if (current.outcome == "adapter") == first else "B")
        ctx.update(prompt=p, text=g.prompt, answers=answers, chosen=chosen,
                   number=[x.id for x, _ in ready].index(p.id) + 1)
    return ctx


def _page(a: Assembly, status: int = 200, **kw):
    return render_template("participant/rate.html", lang_path=url_for(".rate", slug=a.slug),
                           **_card_context(a, **kw)), status


@bp.get("/a/<slug>/rate")
def rate(slug: str):
    """One prompt and two blind answers; `?prompt=ID` reopens one to change the choice."""
    return _page(load_assembly(slug), prompt_id=request.args.get("prompt", type=int))


@bp.post("/a/<slug>/rate")
@limiter.limit(votes_limit)
def rate_post(slug: str):
    a = load_assembly(slug)
    db = get_session()
    participant = current_participant(db, a)
    prompt_id = request.form.get("prompt", type=int)
    try:
        if participant is None:
            raise AssemblyError("vote on statements before rating answers", 403,
                                explain=_("Please vote on a few statements first: your choices count for your "
                                          "opinion group."))
        # The round of the prompt the participant was shown, which may have closed since.
        rnd = rating.round_of_prompt(db, a, prompt_id or 0)
        rating.choose(db, rnd, prompt_id or 0, participant, request.form.get("pick", ""))
    except AssemblyError as exc:
        db.rollback()
        if htmx:
            return render_template("participant/_notice.html", message=exc.explanation), exc.status, \
                {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"}
        return _page(a, exc.status, prompt_id=prompt_id, notice=exc.explanation)
    if htmx:
        return render_template("participant/_rate_card.html", **_card_context(a))
    return redirect(url_for(".rate", slug=slug, _anchor="rating"), 303)


@bp.errorhandler(AssemblyError)
def _error(e: AssemblyError):
    return render_error_page(e.status, str(e.explanation))
