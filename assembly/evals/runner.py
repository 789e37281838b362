"""Start an eval run, execute it (in the worker, or in the CLI's process), and record its outcome.

What it evaluates on comes from the database: the adapter's training run gives the dataset (its
held-out statements and groups), the dataset gives the constitution version (the groups' views
for the steerable check); the community-written items that pass the constitution's rule and the
filed red-team items come from their tables. Without an adapter, the assembly's newest dataset is
used, so a base model can be evaluated before anything is trained. The report is written to a temporary file and
moved into place; the row turns `done` only after that, and a failure leaves no report behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from assembly.adapters import datasets, registry
from assembly.adapters.models import Adapter, Dataset, TrainingRun
from assembly.constitution import versions
from assembly.domain_errors import AssemblyError
from assembly.evals.models import ACTIVE, CANCELLED, DONE, FAILED, RUNNING, EvalRun, RedTeamItem
from assembly.models import Assembly, utcnow
from assembly.models_constitution import ConstitutionVersion
from assembly.tasks import Cancelled, TaskContext, background_task, enqueue

KIND = "evals.run"
Progress = Callable[[int, int, str], None]


def report_dir(app: Flask, ev: EvalRun) -> Path:
    return registry.finetune_dir(app) / "evals" / str(ev.assembly_id) / str(ev.id)


def create(app: Flask, db: Session, assembly: Assembly, base_model: str | None, adapter: Adapter | None,
           suites: Sequence[str] = (), created_by: int | None = None) -> EvalRun:
    """Validate everything that can be checked cheaply (suite names, the base model, the adapter's
    files, that there is anything to evaluate) and record the run; refuse with AssemblyError and
    write nothing otherwise."""
    from finetune.evals.items import EvalError
    from finetune.evals.report import plan

    if adapter is not None and adapter.assembly_id != assembly.id:
        raise AssemblyError("that adapter belongs to another assembly", 422)
    ds = _dataset(db, assembly, adapter)
    base = base_model or (_run(db, adapter).base_model if adapter else app.config["FINETUNE_BASE_MODEL"])
    _check_base(app, base, adapter)
    try:
        plan(_source(app, db, assembly, ds), list(suites) or None)
    except EvalError as exc:
        raise AssemblyError(str(exc), 422) from exc
    ev = EvalRun(assembly_id=assembly.id, adapter_id=adapter.id if adapter else None, dataset_id=ds.id if ds else None,
                 base_model=base, suites_json=json.dumps(list(suites)), created_by=created_by)
    db.add(ev)
    db.commit()
    return ev


def start(app: Flask, db: Session, assembly: Assembly, base_model: str | None, adapter: Adapter | None,
          suites: Sequence[str] = (), created_by: int | None = None) -> EvalRun:
    ev = create(app, db, assembly, base_model, adapter, suites, created_by)
    job = enqueue(db, KIND, assembly.id, {"eval_run_id": ev.id})
    db.refresh(ev)
    if ev.job_id is None:
        ev.job_id = job.id
        db.add(ev)
        db.commit()
    return ev


def _run(db: Session, adapter: Adapter) -> TrainingRun:
    return db.get(TrainingRun, adapter.run_id)


def _dataset(db: Session, assembly: Assembly, adapter: Adapter | None) -> Dataset | None:
    if adapter is not None:
        return db.get(Dataset, _run(db, adapter).dataset_id)
    return datasets.latest_dataset(db, assembly)


def _check_base(app: Flask, base: str, adapter: Adapter | None) -> None:
    from finetune.base_models import resolve
    from finetune.errors import FinetuneError

    try:
        resolve(base, registry.finetune_dir(app))
    except FinetuneError as exc:
        raise AssemblyError(f"base model {base!r} is missing: {exc}", 422) from exc
    if adapter is not None and not (registry.adapter_dir(app, adapter) / "adapter_config.json").is_file():
        raise AssemblyError(f"the files of adapter {adapter.name} are gone (no adapter_config.json)", 409)


def file_redteam(db: Session, assembly: Assembly, prompt: str, bad: str, good: str = "", language: str = "",
                 filed_by: int | None = None) -> RedTeamItem:
    """Record a red-team regression after checking it the way the suite will (so a bad one stores nothing)."""
    from finetune.evals.items import EvalError
    from finetune.evals.suites import EvalSource, get

    probe = {"id": "new", "prompt": prompt, "bad": bad, "good": good, "language": language or None}
    try:
        get("redteam").items(EvalSource(assembly.slug, assembly.language or "en", redteam_items=(probe,)))
    except EvalError as exc:
        raise AssemblyError(str(exc).replace("'new'", "this item"), 422) from exc
    item = RedTeamItem(assembly_id=assembly.id, prompt=prompt.strip(), bad_output=bad.strip(),
                       good_output=good.strip(), language=language.strip(), filed_by=filed_by)
    db.add(item)
    db.commit()
    return item


def _redteam(db: Session, assembly: Assembly) -> list[dict[str, Any]]:
    rows = db.exec(select(RedTeamItem).where(RedTeamItem.assembly_id == assembly.id).order_by(RedTeamItem.id))
    return [{"id": f"redteam-{r.id}", "prompt": r.prompt, "bad": r.bad_output, "good": r.good_output,
             "language": r.language or None, "filed_by": r.filed_by, "filed_at": r.created_at.isoformat()}
            for r in rows]


def _source(app: Flask, db: Session, assembly: Assembly, ds: Dataset | None):
    from assembly.evals.community import suite_items
    from finetune.evals.source import source_from_dataset

    language = assembly.language or "en"
    redteam = _redteam(db, assembly)
    community = suite_items(db, assembly)  # only the items every opinion group supports
    if ds is None:
        return source_from_dataset(assembly.slug, language, [], languages=("en",), community_items=community,
                                   redteam_items=redteam)
    folder = datasets.folder(app, ds)
    heldout = [json.loads(line) for line in (folder / "heldout.jsonl").read_text(encoding="utf-8").splitlines() if line]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    doc = versions.exported(db.get(ConstitutionVersion, ds.constitution_version_id))
    return source_from_dataset(assembly.slug, manifest.get("language") or language, heldout, doc,
                               manifest.get("groups") or [], languages=("en",), community_items=community,
                               redteam_items=redteam)


def execute(app: Flask, eval_run_id: int, progress: Progress | None = None,
            check_cancelled: Callable[[], None] | None = None) -> EvalRun:
    """Score, report, write the card; the row records the outcome whatever happens."""
    engine = app.extensions["assembly_engine"]
    with Session(engine, expire_on_commit=False) as db:
        ev = db.get(EvalRun, eval_run_id)
        ev.status = RUNNING
        db.add(ev)
        db.commit()
        assembly = db.get(Assembly, ev.assembly_id)
        adapter = db.get(Adapter, ev.adapter_id) if ev.adapter_id else None
        ds = db.get(Dataset, ev.dataset_id) if ev.dataset_id else None
    folder = report_dir(app, ev)
    tmp = folder.with_name(folder.name + ".tmp")
    started = time.monotonic()
    outcome: dict[str, Any] = {"status": FAILED, "error": "stopped before it finished"}
    try:
        with Session(engine, expire_on_commit=False) as db:
            source = _source(app, db, assembly, ds)
        report = _score(app, ev, adapter, source, progress, check_cancelled)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        body = json.dumps(report, ensure_ascii=False, allow_nan=False).encode("utf-8")
        (tmp / "report.json").write_bytes(body)
        _export_lmeval(report, source, tmp / "lm-eval")
        if adapter is not None:
            _write_card(app, assembly, adapter, report)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        outcome = {"status": DONE, "report_path": str(folder.relative_to(registry.finetune_dir(app)) / "report.json"),
                   "report_sha256": hashlib.sha256(body).hexdigest(), "models_json": json.dumps(report["models"]),
                   "fit_to_ship": report["promotion"]["fit_to_ship"] if report["promotion"] else None,
                   "summary": report["promotion"]["summary"] if report["promotion"] else "base model only"}
    except Cancelled:
        shutil.rmtree(tmp, ignore_errors=True)
        outcome = {"status": CANCELLED}
        raise
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        outcome = {"status": FAILED, "error": str(exc)[:4000]}
        raise
    finally:
        with Session(engine, expire_on_commit=False) as db:
            ev = db.get(EvalRun, eval_run_id)
            for k, v in outcome.items():
                setattr(ev, k, v)
            ev.wall_time_s, ev.finished_at = time.monotonic() - started, utcnow()
            db.add(ev)
            db.commit()
    return ev


def _score(app: Flask, ev: EvalRun, adapter: Adapter | None, source, progress: Progress | None,
           check_cancelled: Callable[[], None] | None) -> dict[str, Any]:
    from finetune.evals import report as evals_report
    from finetune.evals.scoring import load_scorers

    adapter_path = registry.adapter_dir(app, adapter) if adapter else None
    scorers, info = load_scorers(ev.base_model, adapter_path, registry.finetune_dir(app))
    if adapter is not None:
        info["adapter"].update(id=adapter.id, repo_id=f"{source.slug}/{adapter.name}", revision=adapter.revision)

    def tick(done: int, total: int, what: str) -> None:
        if check_cancelled:
            check_cancelled()
        if progress:
            progress(done, total, what)

    rep = evals_report.run(source, scorers, json.loads(ev.suites_json) or None, tick, models=info)
    rep["eval_run_id"] = ev.id
    return rep


def _export_lmeval(report: dict[str, Any], source, root: Path) -> None:
    """The run's suites as lm-eval task folders beside the report (with the report's items); a
    plugged-in suite whose metrics the standalone hooks cannot compute is left out."""
    from finetune.evals.lmeval_export import export_suite, exportable
    from finetune.evals.suites import get

    for name in report["suites"]:
        suite = get(name)
        if all(exportable(m.name) for m in suite.metric_specs):
            export_suite(suite, suite.items(source), source.slug, root)


def _write_card(app: Flask, assembly: Assembly, adapter: Adapter, report: dict[str, Any]) -> None:
    """model-index and the table into the adapter's card, then refresh the registry's file list,
    revision and archive so /hf serves the new card."""
    from finetune.card import update_card_model_index
    from finetune.evals.card import card_table, model_index

    folder = registry.adapter_dir(app, adapter)
    update_card_model_index(folder, model_index(report, f"{assembly.slug}/{adapter.name}"), card_table(report))
    files = registry.manifest(folder)
    sha, size = registry.write_archive(folder, registry.archive_path(app, adapter), f"{assembly.slug}-{adapter.name}")
    engine = app.extensions["assembly_engine"]
    with Session(engine) as db:
        row = db.get(Adapter, adapter.id)
        row.files_json, row.revision = json.dumps(files), registry.revision_of(files)
        row.archive_sha256, row.archive_size = sha, size
        db.add(row)
        db.commit()


def promoted_adapter_ids(db: Session, assembly_id: int) -> set[int] | None:
    """Adapters whose newest finished eval run says fit to ship; None when the assembly has never
    finished an eval of an adapter (then the registry's plain newest-adapter rule still applies)."""
    rows = db.exec(select(EvalRun).where(EvalRun.assembly_id == assembly_id, EvalRun.status == DONE,
                                         EvalRun.adapter_id.is_not(None)).order_by(EvalRun.id)).all()
    if not rows:
        return None
    newest: dict[int, bool] = {}
    for r in rows:
        newest[r.adapter_id] = bool(r.fit_to_ship)
    return {a for a, ok in newest.items() if ok}


def latest_for(db: Session, adapter: Adapter) -> EvalRun | None:
    return db.exec(select(EvalRun).where(EvalRun.adapter_id == adapter.id, EvalRun.status == DONE)
                   .order_by(EvalRun.id.desc())).first()


def read_report(app: Flask, ev: EvalRun) -> dict[str, Any] | None:
    if ev.status != DONE or not ev.report_path:
        return None
    path = registry.finetune_dir(app) / ev.report_path
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def is_active(ev: EvalRun) -> bool:
    return ev.status in ACTIVE


@background_task(KIND)
def _task(ctx: TaskContext) -> str:
    def progress(done: int, total: int, what: str) -> None:
        ctx.progress(done / max(total, 1), f"{what}: {done}/{total}")

    ev = execute(ctx.app, int(ctx.args["eval_run_id"]), progress, ctx.check_cancelled)
    return ev.summary
