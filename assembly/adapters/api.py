"""JSON API of the fine-tuning stage: the adapter registry, training runs, and starting one (docs/api.md).

Same conventions as the rest of /api: errors are `{"error": message}` with a 4xx status, a
facilitator authenticates with `Authorization: Bearer aa_...` (or the browser session + CSRF), and
private adapters are visible only to their assembly's owner (to everyone else they do not exist).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for
from sqlmodel import select
from werkzeug.exceptions import HTTPException

from assembly.adapters import datasets, registry, runs
from assembly.adapters.models import Adapter, Dataset, TrainingRun
from assembly.assemblies import get_assembly
from assembly.auth import current_facilitator
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly

bp = Blueprint("adapters_api", __name__, url_prefix="/api")


@bp.errorhandler(AssemblyError)
def _assembly_error(exc: AssemblyError):
    get_session().rollback()
    return jsonify({"error": exc.message}), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify({"error": exc.description or exc.name}), exc.code or 500


def adapter_json(a: Assembly, adapter: Adapter, run: TrainingRun | None = None, ds: Dataset | None = None
                 ) -> dict[str, Any]:
    """One adapter as the API, `flask finetune list --json` and `show` give it."""
    db = get_session()
    run = run or db.get(TrainingRun, adapter.run_id)
    ds = ds or db.get(Dataset, run.dataset_id)
    return {
        "repo_id": f"{a.slug}/{adapter.name}", "assembly": a.slug, "name": adapter.name, "id": adapter.id,
        "private": adapter.is_private, "created_at": adapter.created_at.isoformat(), "revision": adapter.revision,
        "archive": {"sha256": adapter.archive_sha256, "size": adapter.archive_size,
                    "url": url_for("adapters.archive", slug=a.slug, name=adapter.name, _external=True)},
        "base_model": {"name": run.base_model, "weights_sha256": run.base_model_sha256},
        "training_run": {"id": run.id, "method": run.method, "steps": run.max_steps, "seed": run.seed,
                         "final_loss": run.loss, "tokens_per_s": run.tokens_per_s, "wall_time_s": run.wall_time_s,
                         "parent_adapter_id": run.parent_adapter_id},
        "provenance": datasets.provenance(ds, a.language),
        "files": [{"path": f["path"], "size": f["size"], "sha256": f["sha256"]} for f in registry.files_of(adapter)],
    }


def run_json(a: Assembly, run: TrainingRun) -> dict[str, Any]:
    adapter = get_session().exec(select(Adapter).where(Adapter.run_id == run.id)).first()
    return {
        "id": run.id, "assembly": a.slug, "status": run.status, "method": run.method, "base_model": run.base_model,
        "base_model_sha256": run.base_model_sha256, "adapter_name": run.adapter_name, "private": run.is_private,
        "step": run.step, "max_steps": run.max_steps, "loss": run.loss, "tokens_per_s": run.tokens_per_s,
        "eta_s": run.eta_s, "error": run.error or None, "dataset_id": run.dataset_id,
        "parent_adapter_id": run.parent_adapter_id, "hyperparameters": json.loads(run.hyperparameters_json),
        "library_versions": json.loads(run.library_versions_json), "loss_curve": json.loads(run.loss_curve_json),
        "wall_time_s": run.wall_time_s, "attempts": run.attempts,
        "adapter": f"{a.slug}/{adapter.name}" if adapter else None,
    }


def _owned(slug: str) -> Assembly:
    fac = current_facilitator()
    if fac is None:
        abort(401, "facilitator login or an 'Authorization: Bearer aa_...' token is required")
    a = get_assembly(get_session(), slug)
    if a.owner_id != fac.id:
        raise AssemblyError("only the facilitator who owns this assembly may do this", 403)
    return a


@bp.get("/adapters")
def list_all():
    """Every adapter the caller may see, newest first."""
    db = get_session()
    fac = current_facilitator()
    assemblies = {a.id: a for a in db.exec(select(Assembly))}
    return jsonify({"adapters": [adapter_json(assemblies[ad.assembly_id], ad)
                                 for ad in registry.visible_adapters(db, None, fac)]})


@bp.get("/assemblies/<slug>/adapters")
def list_assembly(slug: str):
    a = get_assembly(get_session(), slug)
    return jsonify({"adapters": [adapter_json(a, ad)
                                 for ad in registry.visible_adapters(get_session(), a, current_facilitator())]})


@bp.get("/assemblies/<slug>/adapters/<name>")
def show(slug: str, name: str):
    a = get_assembly(get_session(), slug)
    found = registry.find(get_session(), f"{slug}/{name}", current_facilitator())
    if found is None:
        raise AssemblyError(f"no adapter {slug}/{name}", 404)
    return jsonify(adapter_json(a, found.adapter))


@bp.post("/assemblies/<slug>/training-runs")
def start(slug: str):
    """Start a run: {"version", "base_model", "method", "steps", "name", "parent", "private", "critique", "taigi"}
    (all optional).

    taigi (true/false): Taigi language records in the training data; left out, the assembly's
    language decides (docs/language.md).
    """
    from assembly.adapters.web import start_from_form

    a = _owned(slug)
    body = request.get_json(silent=True)
    if body is None and request.content_length:
        raise AssemblyError("the request body must be JSON (Content-Type: application/json)", 422)
    body = body or {}
    known = {"version", "base_model", "method", "steps", "name", "parent", "private", "critique", "taigi"}
    if not isinstance(body, dict) or set(body) - known:
        raise AssemblyError(f"unknown field(s): {', '.join(sorted(set(body) - known))}; known: "
                            f"{', '.join(sorted(known))}" if isinstance(body, dict) else "the body must be an object",
                            422)
    if "taigi" in body and not isinstance(body["taigi"], bool):
        raise AssemblyError("taigi must be true or false (JSON booleans), or left out", 422)
    run = start_from_form(a, body)
    return jsonify(run_json(a, run)), 202


@bp.get("/assemblies/<slug>/training-runs")
def list_runs(slug: str):
    a = _owned(slug)
    db = get_session()
    rows = db.exec(select(TrainingRun).where(TrainingRun.assembly_id == a.id).order_by(TrainingRun.id.desc()))
    return jsonify({"training_runs": [run_json(a, runs.sync(db, r)) for r in rows]})


@bp.get("/assemblies/<slug>/training-runs/<int:run_id>")
def show_run(slug: str, run_id: int):
    a = _owned(slug)
    run = get_session().get(TrainingRun, run_id)
    if run is None or run.assembly_id != a.id:
        raise AssemblyError(f"no training run {run_id} in {slug}", 404)
    return jsonify(run_json(a, runs.sync(get_session(), run)))


@bp.post("/assemblies/<slug>/training-runs/<int:run_id>/<action>")
def run_action(slug: str, run_id: int, action: str):
    a = _owned(slug)
    db = get_session()
    run = db.get(TrainingRun, run_id)
    if run is None or run.assembly_id != a.id or action not in ("cancel", "resume"):
        raise AssemblyError(f"no such action on training run {run_id}", 404)
    run = runs.cancel(db, run) if action == "cancel" else runs.resume(db, run)
    return jsonify(run_json(a, run)), 202
