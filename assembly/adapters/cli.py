"""`flask --app app finetune train|list|show|generate`: the fine-tuning stage from a terminal."""

from __future__ import annotations

import json
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, select

from assembly.adapters import datasets, registry, runs, tryit
from assembly.adapters.api import adapter_json
from assembly.adapters.models import ACTIVE, METHODS, Adapter, TrainingRun
from assembly.assemblies import get_assembly
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, Facilitator, Job, JobStatus

finetune_cli = AppGroup("finetune", help="Train LoRA adapters from a published constitution; list, show, try them.")


def _fail(exc: AssemblyError) -> click.ClickException:
    return click.ClickException(exc.message)


def _adapter(ref: str) -> tuple[Assembly, Adapter]:
    """ADAPTER as SLUG/NAME (SLUG/latest too) or a numeric id; the CLI is the operator, so private ones count."""
    db = get_session()
    if ref.isdigit():
        adapter = db.get(Adapter, int(ref))
        if adapter is None:
            raise click.ClickException(f"no adapter with id {ref}")
        return db.get(Assembly, adapter.assembly_id), adapter
    slug, _, name = ref.partition("/")
    if not name:
        raise click.ClickException("name the adapter as SLUG/NAME (see `flask finetune list`) or by its id")
    a = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    owner = db.get(Facilitator, a.owner_id) if a and a.owner_id else None
    found = registry.find(db, ref, owner) if a else None
    if found is None:
        raise click.ClickException(f"no adapter {ref}")
    return found.assembly, found.adapter


def _follow(run_id: int) -> TrainingRun:
    """A tqdm bar over the run's steps, read from the database until the run stops."""
    from tqdm import tqdm

    engine = current_app.extensions["assembly_engine"]
    with tqdm(total=1, unit="step", desc=f"run {run_id}", dynamic_ncols=True) as bar:
        while True:
            with Session(engine, expire_on_commit=False) as db:
                run = runs.sync(db, db.get(TrainingRun, run_id))
            bar.total = max(run.max_steps, 1)
            bar.n = run.step
            bar.set_postfix_str(f"loss {run.loss:.4f}" if run.loss is not None else run.status)
            bar.refresh()
            if run.status not in ACTIVE:
                return run
            time.sleep(1.0)


def _in_this_process(run_id: int) -> None:
    """Run the job here: huey's immediate mode runs it when enqueued, in a thread, while `_follow` draws the bar."""
    import threading

    app = current_app._get_current_object()
    app.extensions["task_queue"].huey.immediate = True

    def work() -> None:
        with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
            runs.enqueue_run(db, db.get(TrainingRun, run_id))

    threading.Thread(target=work, name=f"train-{run_id}", daemon=True).start()


@finetune_cli.command("train")
@click.argument("slug")
@click.option("--version", "number", type=int, default=None, help="Published constitution version (default: newest).")
@click.option("--base-model", default=None,
              help="Registered name, local Hugging Face folder or hub id (default: FINETUNE_BASE_MODEL).")
@click.option("--method", type=click.Choice(METHODS), default="sft", show_default=True)
@click.option("--steps", type=int, default=None, help="Optimiser steps per stage (default: the training default, 60).")
@click.option("--name", default=None, help="Adapter name in the registry (default: cVERSION-METHOD-rRUN).")
@click.option("--parent", default=None, help="Continue from this adapter (SLUG/NAME); lineage records it.")
@click.option("--private", is_flag=True, help="Only the assembly's owner can see and pull the adapter.")
@click.option("--critique", is_flag=True,
              help="First answer, critique against a principle and revise (chat base models only, e.g. "
                   "smollm2-135m-instruct); the revisions become extra SFT records and DPO pairs.")
@click.option("--taigi/--no-taigi", default=None,
              help="Add Taigi language records to the training data, or leave them out "
                   "(default: only for a Taigi assembly; docs/language.md).")
@click.option("--foreground", is_flag=True,
              help="Train in this process instead of queueing the job for `flask worker`.")
@click.option("--no-follow", is_flag=True, help="Queue the run and return at once (print its id).")
def train_cmd(slug: str, number: int | None, base_model: str | None, method: str, steps: int | None,
              name: str | None, parent: str | None, private: bool, critique: bool, taigi: bool | None,
              foreground: bool,
              no_follow: bool) -> None:
    """Train an adapter on SLUG's published constitution, with a progress bar.

    By default the run is queued for a worker (`flask --app app worker`, which `make run` starts)
    and this command follows it with a progress bar until it ends; Ctrl-C stops following, not the
    run. With --foreground the job runs inside this process (no worker needed).
    """
    db = get_session()
    try:
        a = get_assembly(db, slug)
        v = datasets.published_version(db, a, number)
        ds = datasets.dataset_for(current_app, db, a, v, taigi=taigi)
        parent_row = _adapter(parent)[1] if parent else None
        run = runs.create(current_app, db, a, ds, method=method, steps=steps, name=name, parent=parent_row,
                          private=private, base_model=base_model or current_app.config["FINETUNE_BASE_MODEL"],
                          critique=critique)
        if not foreground:
            run = runs.enqueue_run(db, run)
    except AssemblyError as exc:
        raise _fail(exc) from exc
    click.echo(f"run {run.id}: {method} on {run.base_model}, constitution v{ds.constitution_number}, "
               f"dataset {ds.sha256[:12]}…, {run.max_steps} steps; adapter {slug}/{run.adapter_name}", err=True)
    if foreground:
        _in_this_process(run.id)
    elif no_follow:
        click.echo(run.id)
        return
    run = _follow(run.id)
    if run.status != "done":
        raise click.ClickException(f"run {run.id} {run.status}: {run.error or 'see the run log'}")
    click.echo(f"{slug}/{run.adapter_name}")


@finetune_cli.command("list")
@click.argument("slug", required=False)
@click.option("--json", "as_json", is_flag=True, help="An array of adapters, newest first, each with its repo_id.")
def list_cmd(slug: str | None, as_json: bool) -> None:
    """List adapters (of SLUG, or of every assembly), newest first."""
    db = get_session()
    try:
        a = get_assembly(db, slug) if slug else None
    except AssemblyError as exc:
        raise _fail(exc) from exc
    assemblies = {x.id: x for x in db.exec(select(Assembly))}
    q = select(Adapter).order_by(Adapter.created_at.desc(), Adapter.id.desc())
    rows = list(db.exec(q.where(Adapter.assembly_id == a.id) if a else q))
    with current_app.test_request_context():  # url_for(_external) in adapter_json
        items = [adapter_json(assemblies[r.assembly_id], r) for r in rows]
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    for it in items:
        click.echo(f"{it['repo_id']:<40} {it['created_at'][:19]} {'private' if it['private'] else 'public ':<7} "
                   f"{it['training_run']['method']:<8} {it['base_model']['name']}")


@finetune_cli.command("show")
@click.argument("adapter")
def show_cmd(adapter: str) -> None:
    """Show ADAPTER (SLUG/NAME or id): files, training figures and lineage, as JSON."""
    a, row = _adapter(adapter)
    with current_app.test_request_context():
        click.echo(json.dumps(adapter_json(a, row), indent=2, ensure_ascii=False))


@finetune_cli.command("generate")
@click.argument("adapter")
@click.argument("prompt")
@click.option("--max-new-tokens", default=64, show_default=True)
@click.option("--foreground", is_flag=True, help="Generate in this process instead of queueing for the worker.")
def generate_cmd(adapter: str, prompt: str, max_new_tokens: int, foreground: bool) -> None:
    """Answer PROMPT with the base model and with ADAPTER (a queued job; waits for it)."""
    _a, row = _adapter(adapter)
    db = get_session()
    if foreground:
        current_app.extensions["task_queue"].huey.immediate = True
    try:
        gen = tryit.ask(db, row, prompt, max_new_tokens=max_new_tokens)
    except AssemblyError as exc:
        raise _fail(exc) from exc
    while True:
        db.expire_all()
        st, err = tryit.state(db, gen)
        if st in (JobStatus.done, JobStatus.failed):
            break
        time.sleep(0.5)
    if st == JobStatus.failed:
        job = db.get(Job, gen.job_id)
        raise click.ClickException(err or job.error)
    db.refresh(gen)
    click.echo(f"--- base model\n{gen.base_answer}\n--- with {adapter}\n{gen.adapter_answer}")

