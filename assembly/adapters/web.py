"""Fine-tuning pages: the facilitator's dataset review, train form and live run page; the public registry.

Facilitator pages need the assembly's owner (as the constitution review does). Actions are plain
form posts that redirect; a refused one answers 4xx with the message on the same page and
changes nothing. The run page's figures and log are a fragment htmx refreshes every 2 s while the
run is queued or running; everything comes from the database, so any web worker can serve it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlmodel import select

from assembly.adapters import datasets, registry, runs
from assembly.adapters.charts import loss_chart
from assembly.adapters.models import ACTIVE, METHODS, Adapter, Dataset, TrainingRun
from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.constitution import versions
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly
from finetune.taigi_data import wants_taigi

bp = Blueprint("adapters", __name__)


def _base_models() -> list[str]:
    from finetune.base_models import known_names

    default = current_app.config["FINETUNE_BASE_MODEL"]
    return [default] + [n for n in known_names() if n != default]


def _runs(a: Assembly) -> list[TrainingRun]:
    db = get_session()
    out = list(db.exec(select(TrainingRun).where(TrainingRun.assembly_id == a.id).order_by(TrainingRun.id.desc())))
    return [runs.sync(db, r) for r in out]


@bp.get("/facilitate/<slug>/adapters")
@login_required
def overview(slug: str):
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    return render_template("adapters/overview.html", assembly=a, runs=_runs(a),
                           adapters=registry.visible_adapters(db, a, current_facilitator()),
                           published=versions.all_published(db, a.id))


@bp.get("/facilitate/<slug>/dataset")
@login_required
def dataset(slug: str):
    """Build (once) and show the dataset of a published version: ?version=N, default the newest."""
    a = load_assembly(slug, check_owner=True)
    db = get_session()
    number = request.args.get("version", type=int)
    try:
        taigi = bool_field(request.args.get("taigi"), "taigi")
        v = datasets.published_version(db, a, number)
        ds = datasets.dataset_for(current_app, db, a, v, taigi=taigi)
    except AssemblyError as exc:
        db.rollback()
        return render_template("adapters/dataset.html", assembly=a, ds=None, error=exc.message,
                               published=versions.all_published(db, a.id), taigi=None), exc.status
    return render_template("adapters/dataset.html", assembly=a, ds=ds, report=datasets.report(ds), error=None,
                           published=versions.all_published(db, a.id), taigi_records=datasets.taigi_records(ds),
                           taigi=wants_taigi(a.language) if taigi is None else taigi)


@bp.get("/facilitate/<slug>/datasets/<int:dataset_id>/<name>")
@login_required
def dataset_file(slug: str, dataset_id: int, name: str):
    a = load_assembly(slug, check_owner=True)
    ds = get_session().get(Dataset, dataset_id)
    if ds is None or ds.assembly_id != a.id or name not in (*datasets.FILES, "manifest.json"):
        abort(404)
    path = datasets.folder(current_app, ds) / name
    if not path.is_file():
        abort(404, _("The dataset files are gone; open the dataset page again to rebuild them."))
    mimetype = "application/json" if name.endswith(".json") else "application/x-ndjson"
    return send_file(path, mimetype=mimetype, as_attachment=True,
                     download_name=f"{a.slug}-c{ds.constitution_number}-{name}")


def _train_form(a: Assembly, error: str | None = None, form: dict[str, Any] | None = None, status: int = 200):
    db = get_session()
    form = dict(form or {})
    try:  # the box starts ticked for a Taigi assembly; a bad value shows as unticked
        taigi = bool_field(form.get("taigi"), "taigi")
    except AssemblyError:
        taigi = False
    form["taigi"] = wants_taigi(a.language) if taigi is None else taigi
    return render_template("adapters/train.html", assembly=a, error=error, form=form, methods=METHODS,
                           base_models=_base_models(), published=versions.all_published(db, a.id),
                           adapters=registry.visible_adapters(db, a, current_facilitator())), status


@bp.get("/facilitate/<slug>/train")
@login_required
def train_form(slug: str):
    return _train_form(load_assembly(slug, check_owner=True), form=dict(request.args))


def _int_field(value: Any, what: str) -> int | None:
    """A whole number from a form field or JSON value; None when empty; 422 otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    value = str(value if value is not None else "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise AssemblyError(f"{what} must be a whole number", 422) from None


_TRUE, _FALSE = ("1", "on", "true", "yes"), ("0", "off", "false", "no", "")


def bool_field(value: Any, what: str) -> bool | None:
    """A yes/no from a form field, query argument or JSON value; None when absent; 422 otherwise."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise AssemblyError(f"{what} must be yes or no (true/false, 1/0, on/off)", 422)


def start_from_form(a: Assembly, form: dict[str, Any]) -> TrainingRun:
    """Validate the train form (also the JSON API body) and start the run; AssemblyError on bad input.

    taigi: Taigi language records in the data (True/False), or None to let the assembly's
    language decide (the JSON API when the field is left out).
    """
    db = get_session()
    taigi = bool_field(form.get("taigi"), "taigi")
    v = datasets.published_version(db, a, _int_field(form.get("version"), "the constitution version"))
    parent = None
    parent_name = str(form.get("parent") or "").strip()
    if parent_name:
        parent = db.exec(select(Adapter).where(Adapter.assembly_id == a.id, Adapter.name == parent_name)).first()
        if parent is None:
            raise AssemblyError(f"there is no adapter {a.slug}/{parent_name} to continue from", 422)
    ds = datasets.dataset_for(current_app, db, a, v, taigi=taigi)
    private = form.get("private") in (True, "1", "on", "true", "yes")
    base_model = str(form.get("base_model") or "").strip() or current_app.config["FINETUNE_BASE_MODEL"]
    critique = form.get("critique") in (True, "1", "on", "true", "yes")
    return runs.start(current_app, db, a, ds, base_model=base_model, method=str(form.get("method") or "sft").strip(),
                      steps=_int_field(form.get("steps"), "steps"), name=str(form.get("name") or "").strip() or None,
                      parent=parent, private=private, created_by=current_facilitator().id, critique=critique)


@bp.post("/facilitate/<slug>/train")
@login_required
def train(slug: str):
    a = load_assembly(slug, check_owner=True)
    form = request.form.to_dict()
    form.setdefault("taigi", "0")  # an unticked box sends nothing: the facilitator said no
    try:
        run = start_from_form(a, form)
    except AssemblyError as exc:
        get_session().rollback()
        return _train_form(a, error=exc.message, form=request.form.to_dict(), status=exc.status)
    flash(_("Training run %(id)s is queued.", id=run.id))
    return redirect(url_for("adapters.run_page", slug=a.slug, run_id=run.id))


def _run_or_404(a: Assembly, run_id: int) -> TrainingRun:
    run = get_session().get(TrainingRun, run_id)
    if run is None or run.assembly_id != a.id:
        abort(404, _("There is no training run %(id)s here.", id=run_id))
    return runs.sync(get_session(), run)


def _run_context(a: Assembly, run: TrainingRun) -> dict[str, Any]:
    db = get_session()
    adapter = db.exec(select(Adapter).where(Adapter.run_id == run.id)).first()
    return {"assembly": a, "run": run, "adapter": adapter, "active": run.status in ACTIVE,
            "dataset": db.get(Dataset, run.dataset_id), "chart": loss_chart(json.loads(run.loss_curve_json)),
            "hyper": json.loads(run.hyperparameters_json), "critique": runs.critique_report(current_app, run)}


@bp.get("/facilitate/<slug>/runs/<int:run_id>")
@login_required
def run_page(slug: str, run_id: int):
    a = load_assembly(slug, check_owner=True)
    ctx = _run_context(a, _run_or_404(a, run_id))
    template = "adapters/_run_status.html" if request.headers.get("HX-Request") else "adapters/run.html"
    return render_template(template, **ctx)


@bp.post("/facilitate/<slug>/runs/<int:run_id>/<action>")
@login_required
def run_action(slug: str, run_id: int, action: str):
    a = load_assembly(slug, check_owner=True)
    run = _run_or_404(a, run_id)
    db = get_session()
    try:
        if action == "cancel":
            runs.cancel(db, run)
            flash(_("Cancelling: the run stops after its current step and keeps a checkpoint."))
        elif action == "resume":
            runs.resume(db, run)
            flash(_("Resuming from the last checkpoint."))
        else:
            abort(404)
    except AssemblyError as exc:
        db.rollback()
        ctx = _run_context(a, run)
        return render_template("adapters/run.html", error=exc.message, **ctx), exc.status
    return redirect(url_for("adapters.run_page", slug=a.slug, run_id=run.id))


# ---- the public registry -------------------------------------------------------------------

def _visible_or_404(a: Assembly, name: str) -> Adapter:
    found = registry.find(get_session(), f"{a.slug}/{name}", current_facilitator())
    if found is None:  # private adapters look missing to everyone but the owner
        abort(404, _("There is no adapter %(name)s.", name=name))
    return found.adapter


@bp.get("/a/<slug>/adapters")
def registry_page(slug: str):
    a = load_assembly(slug)
    fac = current_facilitator()
    return render_template("adapters/registry.html", assembly=a, is_owner=fac is not None and fac.id == a.owner_id,
                           adapters=registry.visible_adapters(get_session(), a, fac))


def lineage(a: Assembly, adapter: Adapter) -> list[dict[str, Any]]:
    """adapter -> run -> dataset -> constitution version -> clustering run -> vote snapshot, with ids and hashes."""
    db = get_session()
    run = db.get(TrainingRun, adapter.run_id)
    ds = db.get(Dataset, run.dataset_id)
    parent = db.get(Adapter, run.parent_adapter_id) if run.parent_adapter_id else None
    chain = [
        {"what": "adapter", "id": f"{a.slug}/{adapter.name}", "hash": adapter.archive_sha256,
         "detail": f"revision {adapter.revision}"},
        {"what": "training run", "id": run.id, "hash": run.base_model_sha256,
         "detail": f"{run.method} on {run.base_model}, seed {run.seed}"
                   + (f", continued from {a.slug}/{parent.name}" if parent else "")},
        {"what": "dataset", "id": ds.id, "hash": ds.sha256, "detail": f"{ds.n_records} records"},
        {"what": "constitution version", "id": ds.constitution_number, "hash": ds.constitution_hash,
         "detail": f"database id {ds.constitution_version_id}",
         "url": url_for("constitution.version_page", slug=a.slug, number=ds.constitution_number)},
        {"what": "clustering run", "id": ds.clustering_run_id, "hash": None, "detail": ""},
        {"what": "vote snapshot", "id": None, "hash": ds.vote_snapshot_hash, "detail": ""},
    ]
    return chain


@bp.get("/a/<slug>/adapters/<name>")
def adapter_page(slug: str, name: str):
    a = load_assembly(slug)
    adapter = _visible_or_404(a, name)
    db = get_session()
    run = db.get(TrainingRun, adapter.run_id)
    fac = current_facilitator()
    card = registry.read_text(current_app, adapter, "README.md")
    return render_template("adapters/adapter.html", assembly=a, adapter=adapter, run=run, lineage=lineage(a, adapter),
                           chart=loss_chart(json.loads(run.loss_curve_json)), card=card,
                           is_owner=fac is not None and fac.id == a.owner_id,
                           hf_endpoint=request.host_url.rstrip("/") + "/hf")


@bp.get("/a/<slug>/adapters/<name>.tar.gz")
def archive(slug: str, name: str):
    a = load_assembly(slug)
    adapter = _visible_or_404(a, name)
    response = send_file(registry.archive_path(current_app, adapter), mimetype="application/gzip", as_attachment=True,
                         download_name=f"{a.slug}-{adapter.name}.tar.gz", etag=adapter.archive_sha256)
    response.headers["X-Checksum-Sha256"] = adapter.archive_sha256
    return response


@bp.post("/a/<slug>/adapters/<name>/visibility")
@login_required
def visibility(slug: str, name: str):
    a = load_assembly(slug, check_owner=True)
    adapter = _visible_or_404(a, name)
    adapter.is_private = request.form.get("private") in ("1", "on", "true")
    get_session().add(adapter)
    get_session().commit()
    flash(_("The adapter is now private.") if adapter.is_private else _("The adapter is now public."))
    return redirect(url_for("adapters.adapter_page", slug=a.slug, name=adapter.name))
