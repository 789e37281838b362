"""Eval pages: start a run from the browser (a queued job), watch it, read the report.

The owner of the assembly starts runs; the report page of a finished run shows the decision with
its numbers, a chart per suite and per group (base against adapter, with 95% intervals), the
items where the two differ most, and links to the JSON export and the model card. While a run is
queued or running, its status section is an htmx fragment refreshed every 2 s from the job row.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlmodel import select

from assembly.adapters import registry
from assembly.adapters.models import Adapter
from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.evals import runner
from assembly.evals.charts import group_chart, suite_chart
from assembly.evals.models import CANCELLED, FAILED, EvalRun, RedTeamItem
from assembly.models import Assembly, Job
from assembly.tasks import job_alive, request_cancel

bp = Blueprint("evals", __name__)


def _suite_names() -> list[str]:
    from finetune.evals.suites import all_suites

    return [s.name for s in all_suites()]


def _runs(a: Assembly) -> list[EvalRun]:
    db = get_session()
    return [_sync(r) for r in db.exec(select(EvalRun).where(EvalRun.assembly_id == a.id).order_by(EvalRun.id.desc()))]


def _sync(ev: EvalRun) -> EvalRun:
    """A run whose worker died before it could record an outcome is shown as failed, not running forever."""
    db = get_session()
    if runner.is_active(ev) and ev.job_id is not None and not job_alive(db, db.get(Job, ev.job_id)):
        db.refresh(ev)
        if runner.is_active(ev):
            job = db.get(Job, ev.job_id)
            ev.status = CANCELLED if job and job.message == "cancelled" else FAILED
            ev.error = ev.error or (job.error if job else "") or "the worker stopped before the eval finished"
            db.add(ev)
            db.commit()
    return ev


def _adapters(a: Assembly) -> list[Adapter]:
    return registry.visible_adapters(get_session(), a, current_facilitator())


def _overview(a: Assembly, error: str | None = None, status: int = 200):
    items = get_session().exec(select(RedTeamItem).where(RedTeamItem.assembly_id == a.id).order_by(RedTeamItem.id))
    return render_template("evals/overview.html", assembly=a, runs=_runs(a), adapters=_adapters(a), redteam=list(items),
                           suites=_suite_names(), base_default=current_app.config["FINETUNE_BASE_MODEL"],
                           error=error), status


@bp.get("/facilitate/<slug>/evals")
@login_required
def overview(slug: str):
    return _overview(load_assembly(slug, check_owner=True))


@bp.post("/facilitate/<slug>/evals/redteam")
@login_required
def file_redteam(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    f = request.form
    try:
        runner.file_redteam(db, a, f.get("prompt", ""), f.get("bad", ""), f.get("good", ""), f.get("language", ""),
                            filed_by=current_facilitator().id)
    except AssemblyError as exc:
        db.rollback()
        return _overview(a, exc.message, exc.status)
    return redirect(url_for("evals.overview", slug=slug), 303)


@bp.post("/facilitate/<slug>/evals")
@login_required
def start(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    adapter = None
    if request.form.get("adapter"):
        adapter = db.get(Adapter, request.form.get("adapter", type=int) or 0)
        if adapter is None or adapter.assembly_id != a.id:
            return _overview(a, "There is no such adapter in this assembly.", 422)
    suites = [s for s in request.form.getlist("suite") if s]
    unknown = [s for s in suites if s not in _suite_names()]
    if unknown:
        return _overview(a, f"Unknown suite: {', '.join(unknown)}", 422)
    try:
        ev = runner.start(current_app, db, a, request.form.get("base_model") or None, adapter, suites,
                          created_by=current_facilitator().id)
    except AssemblyError as exc:
        db.rollback()
        return _overview(a, exc.message, exc.status)
    return redirect(url_for("evals.run_page", slug=slug, run_id=ev.id), 303)


def _own_run(a: Assembly, run_id: int) -> EvalRun:
    ev = get_session().get(EvalRun, run_id)
    if ev is None or ev.assembly_id != a.id:
        abort(404)
    return _sync(ev)


@bp.get("/facilitate/<slug>/evals/<int:run_id>")
@login_required
def run_page(slug: str, run_id: int):
    a = load_assembly(slug, check_owner=True)
    ev = _own_run(a, run_id)
    db = get_session()
    job = db.get(Job, ev.job_id) if ev.job_id else None
    adapter = db.get(Adapter, ev.adapter_id) if ev.adapter_id else None
    if request.headers.get("HX-Request") and runner.is_active(ev):
        return render_template("evals/_status.html", assembly=a, ev=ev, job=job)
    report = runner.read_report(current_app, ev)
    charts = {}
    if report:
        charts = {name: {"suite": suite_chart(s), "groups": group_chart(s)} for name, s in report["suites"].items()}
    from finetune.evals.card import label

    template = "evals/_status.html" if request.headers.get("HX-Request") else "evals/run.html"
    return render_template(template, assembly=a, ev=ev, job=job, adapter=adapter, report=report, charts=charts,
                           label=label(report) if report and report.get("promotion") else None,
                           refresh_page=True, ratings=_ratings(a, ev))


def _ratings(a: Assembly, ev: EvalRun) -> list[dict]:
    """The human rating rounds of the run's adapter, as they stand now (choices keep coming in)."""
    from assembly.evals import rating

    if ev.adapter_id is None:
        return []
    db = get_session()
    return [rating.results(db, r) for r in rating.rounds_of(db, a, ev.adapter_id)]


@bp.get("/facilitate/<slug>/evals/<int:run_id>.json")
@login_required
def run_json(slug: str, run_id: int):
    a = load_assembly(slug, check_owner=True)
    report = runner.read_report(current_app, _own_run(a, run_id))
    if report is None:
        abort(404, "This eval run has no report (yet).")
    response = jsonify({**report, "human_rating": _ratings(a, _own_run(a, run_id))})
    response.headers["Content-Disposition"] = f"attachment; filename={a.slug}-eval-{run_id}.json"
    return response


@bp.post("/facilitate/<slug>/evals/<int:run_id>/cancel")
@login_required
def cancel(slug: str, run_id: int):
    a = load_assembly(slug, check_owner=True)
    ev = _own_run(a, run_id)
    if not runner.is_active(ev) or ev.job_id is None:
        abort(409, f"eval run {run_id} is {ev.status}; only a queued or running one can be cancelled")
    db = get_session()
    request_cancel(db, ev.job_id)
    job = db.get(Job, ev.job_id)
    if job is not None and job.message == "cancelled":  # it had not started
        ev.status = CANCELLED
        db.add(ev)
        db.commit()
    return redirect(url_for("evals.run_page", slug=slug, run_id=run_id), 303)

