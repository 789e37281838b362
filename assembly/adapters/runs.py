"""Training runs: create one from a reviewed dataset, run it as a queued job, cancel, resume, register the adapter.

The worker writes the run's step, loss, tokens/s, time left and log lines into `training_run`
(at most once a second), so every web worker shows the same live figures. A worker that dies
(SIGKILL, a reboot) leaves the run "running" with a dead owner; `sync` turns that into
"interrupted", and `resume` queues it again: trl resumes from the newest valid checkpoint under
runs/ID. Only a finished run registers an adapter (registry.register: files and row together).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from assembly.adapters import datasets, registry
from assembly.adapters.base_model_checks import check_base_model_name, check_critique_model, resolve_base_model
from assembly.adapters.models import ACTIVE, METHODS, Adapter, Dataset, RunStatus, TrainingRun
from assembly.constitution import versions
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, Job, JobStatus, utcnow
from assembly.models_constitution import ConstitutionVersion
from assembly.tasks import CANCELLED, Cancelled, TaskContext, background_task, enqueue, job_alive, request_cancel

KIND = "finetune.train"
MAX_STEPS = 100_000
LOG_LIMIT = 200_000  # characters of log kept per run (the newest)


def run_dir(app: Flask, run: TrainingRun) -> Path:
    return registry.finetune_dir(app) / "runs" / str(run.id)


def start(app: Flask, db: Session, assembly: Assembly, ds: Dataset, **options: Any) -> TrainingRun:
    """Validate, record and enqueue a run; on bad input refuse (AssemblyError) and write nothing."""
    return enqueue_run(db, create(app, db, assembly, ds, **options))


def create(app: Flask, db: Session, assembly: Assembly, ds: Dataset, *, base_model: str, method: str = "sft",
           steps: int | None = None, name: str | None = None, parent: Adapter | None = None,
           private: bool = False, seed: int = 0, created_by: int | None = None,
           extra: dict[str, Any] | None = None, critique: bool = False) -> TrainingRun:
    """Validate the options and record the run (not queued yet: see `enqueue_run`).

    critique=True adds the critique-and-revision stage (finetune/critique.py) before training; it
    needs a chat model, so a base model known to have no chat template is refused here (422).
    """
    from finetune.config import TrainConfig
    from finetune.errors import FinetuneError

    if method not in METHODS:
        raise AssemblyError(f"method must be one of {', '.join(METHODS)}, not {method!r}", 422)
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise AssemblyError(f"steps must be between 1 and {MAX_STEPS}", 422)
    hyper: dict[str, Any] = {"method": method, "seed": seed, **(extra or {})}
    if steps is not None:
        hyper["max_steps"] = steps
    try:
        cfg = TrainConfig.from_dict(hyper)
    except FinetuneError as exc:
        raise AssemblyError(str(exc), 422) from exc
    if name:
        try:
            registry.check_name(name)
        except ValueError as exc:
            raise AssemblyError(str(exc), 422) from exc
        if db.exec(select(Adapter).where(Adapter.assembly_id == assembly.id, Adapter.name == name)).first() or \
                db.exec(select(TrainingRun).where(TrainingRun.assembly_id == assembly.id,
                                                  TrainingRun.adapter_name == name,
                                                  TrainingRun.status.in_(ACTIVE))).first():
            raise AssemblyError(f"an adapter {assembly.slug}/{name} already exists or is being trained", 409)
    if parent is not None and parent.assembly_id != assembly.id:
        raise AssemblyError("the parent adapter belongs to another assembly", 422)
    kinds = datasets.report(ds).get("counts", {})
    if "dpo" in method and not kinds.get("preference_total"):
        raise AssemblyError("this dataset has no preference pairs, so DPO has nothing to learn from: use sft", 409)
    base_model = check_base_model_name(base_model)
    if critique:
        check_critique_model(base_model)
        if not kinds.get("sft", {}).get("principle"):
            raise AssemblyError("this dataset trains on no principle (they are all held out for the evals), so "
                                "the critique stage has nothing to critique answers against: train without it", 409)
    stored = {**cfg.to_dict(), **({"critique": True} if critique else {})}
    run = TrainingRun(assembly_id=assembly.id, dataset_id=ds.id, base_model=base_model, method=method,
                      hyperparameters_json=json.dumps(stored, sort_keys=True), seed=cfg.seed,
                      adapter_name=name or "", is_private=private, max_steps=cfg.max_steps * (2 if method == "sft+dpo"
                                                                                                 else 1),
                      parent_adapter_id=parent.id if parent else None, created_by=created_by)
    db.add(run)
    db.flush()
    if not name:
        run.adapter_name = registry.default_name(ds.constitution_number, method, run.id)
    db.commit()
    return run


def enqueue_run(db: Session, run: TrainingRun) -> TrainingRun:
    # job_id None until the new job is linked: `sync` must not judge a queued run by its previous job.
    run.status, run.error, run.job_id = RunStatus.queued.value, "", None
    db.add(run)
    db.commit()
    job = enqueue(db, KIND, run.assembly_id, {"run_id": run.id})
    db.execute(update(TrainingRun).where(TrainingRun.id == run.id, TrainingRun.job_id.is_(None))
               .values(job_id=job.id))  # the worker may have linked it already
    db.commit()
    db.refresh(run)
    return run


def sync(db: Session, run: TrainingRun) -> TrainingRun:
    """Turn a run whose worker died into 'interrupted' (resumable); return it refreshed."""
    if run.status not in ACTIVE or run.job_id is None:
        return run
    job = db.get(Job, run.job_id)
    if job_alive(db, job):
        return run
    db.refresh(run)
    if run.status in ACTIVE:  # the task itself did not get to record an outcome
        cancelled = job is not None and job.message == CANCELLED
        run.status = (RunStatus.cancelled if cancelled else RunStatus.interrupted).value
        run.error = "" if cancelled else (job.error if job is not None and job.error else
                                          "the worker running this training stopped before it finished")
        run.eta_s = None
        db.add(run)
        db.commit()
    return run


def cancel(db: Session, run: TrainingRun) -> TrainingRun:
    """Ask the worker to stop the run at its next step (it saves a checkpoint, so it can be resumed)."""
    sync(db, run)
    if run.status not in ACTIVE:
        raise AssemblyError(f"run {run.id} is {run.status}; only a queued or running run can be cancelled", 409)
    request_cancel(db, run.job_id)
    db.refresh(run)
    job = db.get(Job, run.job_id)
    if job.status == JobStatus.failed:  # it had not started: nothing will pick it up now
        run.status = RunStatus.cancelled.value
        db.add(run)
        db.commit()
    return run


def resume(db: Session, run: TrainingRun) -> TrainingRun:
    """Queue an interrupted, failed or cancelled run again; it continues from its newest valid checkpoint."""
    sync(db, run)
    if run.status not in (RunStatus.interrupted, RunStatus.failed, RunStatus.cancelled):
        raise AssemblyError(f"run {run.id} is {run.status}; only an interrupted, failed or cancelled run resumes", 409)
    return enqueue_run(db, run)


class RunWriter:
    """Collects progress from the trainer and writes it to the run row at most once a second."""

    def __init__(self, ctx: TaskContext, run_id: int) -> None:
        self.ctx, self.run_id = ctx, run_id
        self.lines: list[str] = []
        self.values: dict[str, Any] = {}
        self._last = 0.0

    def log(self, line: str) -> None:
        self.lines.append(f"{utcnow():%H:%M:%S} {line}")
        self.flush(force=True)

    def __call__(self, p: dict[str, Any]) -> None:
        if p.get("log"):
            self.lines.append(f"{utcnow():%H:%M:%S} {p['log']}")
        if "overall_step" in p:
            self.values.update(step=p["overall_step"], max_steps=p["overall_max_steps"], loss=p.get("loss"),
                               tokens_per_s=p.get("tokens_per_s"), eta_s=p.get("eta_s"))
            frac = p["overall_step"] / max(1, p["overall_max_steps"])
            loss = f", loss {p['loss']:.4f}" if p.get("loss") is not None else ""
            self.ctx.progress(frac, f"{p.get('stage', '')} step {p['overall_step']}/{p['overall_max_steps']}{loss}")
        self.flush()

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 1.0:
            return
        self._last = now
        with Session(self.ctx.engine) as db:
            run = db.get(TrainingRun, self.run_id)
            for k, v in self.values.items():
                setattr(run, k, v)
            if self.lines:
                run.log = (run.log + "\n".join(self.lines) + "\n")[-LOG_LIMIT:]
                self.lines = []
            run.updated_at = utcnow()
            db.add(run)
            db.commit()


def load_dataset(folder: Path, sha256: str):
    """The reviewed dataset from its folder, checked against the row's sha256 (training uses what was shown)."""
    from finetune.data import TrainingDataset
    from finetune.errors import FinetuneError

    data = TrainingDataset.read_jsonl(folder)
    if data.sha256 != sha256:
        raise FinetuneError(f"the dataset in {folder} is not the one reviewed (sha256 {data.sha256[:12]}… instead "
                            f"of {sha256[:12]}…); open the dataset page again")
    return data


def _fail(engine, run_id: int, status: RunStatus, error: str) -> None:
    with Session(engine) as db:
        db.execute(update(TrainingRun).where(TrainingRun.id == run_id)
                   .values(status=status.value, error=error[:20000], eta_s=None, finished_at=utcnow()))
        db.commit()


@background_task(KIND)
def train_task(ctx: TaskContext) -> str:
    """The worker's side: train, then register the adapter; every outcome is recorded on the run."""
    from finetune.errors import FinetuneError

    run_id = int(ctx.args["run_id"])
    try:
        return _train(ctx, run_id)
    except Cancelled:
        _fail(ctx.engine, run_id, RunStatus.cancelled, "")
        raise
    except (FinetuneError, ValueError, OSError) as exc:
        _fail(ctx.engine, run_id, RunStatus.failed, str(exc))
        raise
    except Exception as exc:
        _fail(ctx.engine, run_id, RunStatus.failed, _explained(ctx.app, run_id, exc))
        raise


DISK_LOW = 64 * 1024 * 1024


def _explained(app: Flask, run_id: int, exc: Exception) -> str:
    """The error for the run page; a full disk said in words (torch.save reports ENOSPC as 'unexpected pos')."""
    message = f"{type(exc).__name__}: {exc}"
    folder = registry.finetune_dir(app) / "runs" / str(run_id)
    try:
        free = shutil.disk_usage(folder if folder.exists() else registry.finetune_dir(app)).free
    except OSError:
        return message
    if free < DISK_LOW:
        return (f"the disk holding {folder} is full ({free // 1024} KiB free), so a checkpoint could not be "
                f"written; no adapter was registered. Free some space and resume the run. ({message})")
    return message


def _train(ctx: TaskContext, run_id: int) -> str:
    from finetune.config import TrainConfig
    from finetune.train import library_versions, train

    app = ctx.app
    with Session(ctx.engine, expire_on_commit=False) as db:
        run = db.get(TrainingRun, run_id)
        run.status, run.job_id, run.error = RunStatus.running.value, ctx.job_id, ""
        run.attempts += 1
        run.started_at = run.started_at or utcnow()
        run.library_versions_json = json.dumps(library_versions())
        db.add(run)
        db.commit()
        ds = db.get(Dataset, run.dataset_id)
        assembly = db.get(Assembly, run.assembly_id)
        parent = db.get(Adapter, run.parent_adapter_id) if run.parent_adapter_id else None
    writer = RunWriter(ctx, run_id)
    writer.log(f"attempt {run.attempts}: {run.method} on {run.base_model}, {run.max_steps} steps")
    base = resolve_base_model(app, run.base_model)
    with Session(ctx.engine) as db:
        db.execute(update(TrainingRun).where(TrainingRun.id == run_id).values(base_model_sha256=base.weights_sha256))
        db.commit()
    data = load_dataset(datasets.folder(app, ds), ds.sha256)
    hyper = json.loads(run.hyperparameters_json)
    critique_sha = None
    if hyper.pop("critique", False):
        data = _critiqued(ctx, writer, run, ds, base, data)
        critique_sha = data.sha256
    if parent is not None:
        hyper["parent_adapter"] = str(registry.adapter_dir(app, parent))
    cfg = TrainConfig.from_dict(hyper)
    out = run_dir(app, run)
    t0 = time.monotonic()
    result = train(base, data, cfg, out, on_progress=writer, should_stop=ctx.cancel_requested,
                   provenance={**datasets.provenance(ds, assembly.language), "training_run_id": run.id,
                               **({"critique_dataset_sha256": critique_sha} if critique_sha else {}),
                               "parent_adapter": f"{assembly.slug}/{parent.name}" if parent else None},
                   community={"title": assembly.title, "slug": assembly.slug,
                              "constitution_url": f"/a/{assembly.slug}/constitution/v/{ds.constitution_number}"})
    writer.flush(force=True)
    if result.status == "cancelled":
        raise Cancelled()
    with Session(ctx.engine, expire_on_commit=False) as db:
        run = db.get(TrainingRun, run_id)
        run.loss_curve_json = json.dumps(result.loss_curve)
        run.wall_time_s = (run.wall_time_s or 0.0) + (time.monotonic() - t0)
        run.tokens_per_s = result.tokens_per_s
        run.step, run.eta_s = run.max_steps, 0.0
        db.add(run)
        db.commit()
        adapter = registry.register(app, db, run, assembly, Path(result.adapter_dir))
        run.status, run.finished_at = RunStatus.done.value, utcnow()
        db.add(run)
        db.commit()
    for ckpt in out.glob("*/checkpoint-*"):  # the adapter is registered: checkpoints are only disk now
        shutil.rmtree(ckpt, ignore_errors=True)
    writer.log(f"registered adapter {assembly.slug}/{adapter.name} (archive sha256 {adapter.archive_sha256})")
    return f"adapter {assembly.slug}/{adapter.name}"


CRITIQUE_DIR = "critique-dataset"


def _critiqued(ctx: TaskContext, writer: RunWriter, run: TrainingRun, ds: Dataset, base, data):
    """The reviewed dataset plus the critique stage's records, written once under runs/ID/critique-dataset.

    A resumed run reads the folder back instead of generating again, so the records it trains on
    are the ones already written (and shown in its log).
    """
    from finetune.base_models import load
    from finetune.critique import CritiqueConfig, augment, principles_of, with_critique
    from finetune.data import TrainingDataset

    folder = run_dir(ctx.app, run) / CRITIQUE_DIR
    if (folder / "manifest.json").is_file():
        merged = TrainingDataset.read_jsonl(folder)
        writer.log(f"critique: reusing the {merged.report['critique']['records']} critique records in {CRITIQUE_DIR}/")
        return merged
    with Session(ctx.engine) as db:
        doc = versions.exported(db.get(ConstitutionVersion, ds.constitution_version_id))
    cfg = CritiqueConfig(seed=run.seed)
    writer.log(f"critique: answering, critiquing and revising up to {cfg.max_records} prompts with {run.base_model}")
    model, tokenizer = load(base)
    result = augment(model, tokenizer, run.base_model, data.sft, principles_of(data.sft, doc), cfg,
                     should_stop=ctx.cancel_requested,
                     on_record=lambda done, total: writer({"log": f"critique: {done}/{total} prompts"}))
    del model
    if ctx.cancel_requested():
        raise Cancelled()
    merged = with_critique(data, result, run.base_model)
    merged.write_jsonl(folder)
    summary = merged.report["critique"]
    writer.log(f"critique: {summary['records']} records and {summary['pairs']} pairs from {summary['attempted']} "
               f"prompts ({summary['skipped']} skipped: the revision changed nothing); dataset {merged.sha256[:12]}…")
    return merged


def critique_report(app: Flask, run: TrainingRun) -> dict[str, Any] | None:
    """The critique stage's report of a run (records, pairs, principles), once the stage has written it."""
    try:
        manifest = json.loads((run_dir(app, run) / CRITIQUE_DIR / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {**manifest["report"].get("critique", {}), "counts": manifest["report"].get("counts", {})}
