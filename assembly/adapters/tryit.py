""""Try it": the base model's and the adapter's answers to one prompt, side by side, generated as a queued job.

Generation loads the base model (gigabytes for real models), so it never runs on the request
path: the page and `flask finetune generate` enqueue a `finetune.generate` job and show its
answers once the worker has written them into the `generation` row.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import Session, select

from assembly.adapters import registry
from assembly.adapters.base_model_checks import resolve_base_model
from assembly.adapters.models import Adapter, Generation, TrainingRun
from assembly.assemblies import load_assembly
from assembly.auth import current_facilitator, login_required
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.models import Job, JobStatus
from assembly.tasks import TaskContext, background_task, enqueue, job_alive

KIND = "finetune.generate"
MAX_PROMPT = 4000
MAX_NEW_TOKENS = 512

bp = Blueprint("adapters_try", __name__)


def ask(db: Session, adapter: Adapter, prompt: str, max_new_tokens: int = 64, created_by: int | None = None
        ) -> Generation:
    """Validate the prompt, record a generation and enqueue it; AssemblyError (nothing written) on bad input."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise AssemblyError("write a prompt first", 422)
    if len(prompt) > MAX_PROMPT:
        raise AssemblyError(f"a prompt can be at most {MAX_PROMPT} characters", 422)
    if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
        raise AssemblyError(f"max_new_tokens must be between 1 and {MAX_NEW_TOKENS}", 422)
    gen = Generation(adapter_id=adapter.id, prompt=prompt, max_new_tokens=max_new_tokens, created_by=created_by)
    db.add(gen)
    db.commit()
    enqueue_generation(db, gen, adapter.assembly_id)
    return gen


def enqueue_generation(db: Session, gen: Generation, assembly_id: int) -> Job:
    """Queue the job that answers a recorded generation (also the human rating rounds' path)."""
    job = enqueue(db, KIND, assembly_id, {"generation_id": gen.id})
    db.refresh(gen)
    if gen.job_id is None:
        gen.job_id = job.id
        db.add(gen)
        db.commit()
    return job


def state(db: Session, gen: Generation) -> tuple[str, str]:
    """('queued'|'running'|'done'|'failed', error) of a generation, from its job."""
    job = db.get(Job, gen.job_id) if gen.job_id else None
    if job is None:
        return "queued", ""
    if job.status in (JobStatus.queued, JobStatus.running) and not job_alive(db, job):
        db.refresh(job)
    return str(job.status), (job.message if job.status == JobStatus.failed else "")


@background_task(KIND)
def generate_task(ctx: TaskContext) -> str:
    from finetune.generate import generate

    app = ctx.app
    with Session(ctx.engine, expire_on_commit=False) as db:
        gen = db.get(Generation, int(ctx.args["generation_id"]))
        gen.job_id = ctx.job_id
        db.add(gen)
        db.commit()
        adapter = db.get(Adapter, gen.adapter_id)
        run = db.get(TrainingRun, adapter.run_id)
    base = resolve_base_model(app, run.base_model)
    ctx.progress(0.1, "base model")
    base_answer = generate(base, None, gen.prompt, max_new_tokens=gen.max_new_tokens)
    ctx.check_cancelled(every_s=0)
    ctx.progress(0.5, "adapter")
    adapter_answer = generate(base, registry.adapter_dir(app, adapter), gen.prompt, max_new_tokens=gen.max_new_tokens)
    with Session(ctx.engine) as db:
        row = db.get(Generation, gen.id)
        row.base_answer, row.adapter_answer = base_answer, adapter_answer
        db.add(row)
        db.commit()
    return f"generation {gen.id}"


def _adapter_or_404(slug: str, name: str):
    a = load_assembly(slug, check_owner=True)  # the owner: generation costs a worker minutes
    found = registry.find(get_session(), f"{slug}/{name}", current_facilitator())
    if found is None:
        abort(404, _("There is no adapter %(name)s.", name=name))
    return a, found.adapter


def _page(a, adapter, gen=None, error=None, status=200):
    db = get_session()
    history = list(db.exec(select(Generation).where(Generation.adapter_id == adapter.id)
                           .order_by(Generation.id.desc()).limit(10)))
    st = state(db, gen) if gen else ("", "")
    template = "adapters/_generation.html" if request.headers.get("HX-Request") and gen else "adapters/try.html"
    return render_template(template, assembly=a, adapter=adapter, gen=gen, state=st[0], gen_error=st[1],
                           error=error, history=history), status


@bp.get("/facilitate/<slug>/adapters/<name>/try")
@login_required
def try_page(slug: str, name: str):
    a, adapter = _adapter_or_404(slug, name)
    gen = None
    gen_id = request.args.get("generation", type=int)
    if gen_id is not None:
        gen = get_session().get(Generation, gen_id)
        if gen is None or gen.adapter_id != adapter.id:
            abort(404)
    return _page(a, adapter, gen)


@bp.post("/facilitate/<slug>/adapters/<name>/try")
@login_required
def try_post(slug: str, name: str):
    a, adapter = _adapter_or_404(slug, name)
    db = get_session()
    try:
        gen = ask(db, adapter, request.form.get("prompt", ""), created_by=current_facilitator().id)
    except AssemblyError as exc:
        db.rollback()
        return _page(a, adapter, error=exc.message, status=exc.status)
    return redirect(url_for("adapters_try.try_page", slug=a.slug, name=adapter.name, generation=gen.id))

