"""The task queue for long work (training, generation, evals): Huey, run by worker processes, never the web server.

Why Huey: it is small, well kept, and has both modes the platform needs with one API: SQLite
storage embedded in the instance folder by default (no service to run; `make run` starts one
worker beside the web server) and Redis when workers live on other machines (`HUEY_URL=redis://`,
the `redis` extra). Training needs gigabytes and minutes to hours, so it must not share a
process with the web workers that serve votes.

Huey only carries a job id. Status, progress, the error and the owner (`host:pid`) live in the
`job` table, as for reclustering, so every web worker can show them, and a job whose worker died
(SIGKILL, a reboot) is found by `jobs.mark_orphans_failed` and shown as failed, not lost.
Cancellation is a `job_cancel` row the running task polls (`TaskContext.check_cancelled`).

Use: decorate a function `fn(ctx: TaskContext) -> str | None` with `@background_task("kind")`,
then `enqueue(db, "kind", assembly_id, {...})`. The function runs inside an app context in the
worker; its return value is the job's final message.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from sqlalchemy import Column, Text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from assembly.jobs import mark_orphans_failed
from assembly.models import BigInt, Job, JobStatus, utcnow

log = logging.getLogger(__name__)

QUEUE_NAME = "assembly"
CANCELLED = "cancelled"
BUSY_RETRY_S = 5  # a job whose kind is already running for its assembly waits this long, then tries again


class JobCancel(SQLModel, table=True):
    """A request to stop a queued or running job; the task polls for it and stops at a safe point."""

    __tablename__ = "job_cancel"
    job_id: int = Field(primary_key=True, foreign_key="job.id", sa_type=BigInt)
    requested_at: datetime = Field(default_factory=utcnow)


class Cancelled(Exception):  # noqa: N818 - it is an outcome, not a malfunction
    """Raised inside a task (by `check_cancelled`) when someone asked the job to stop."""


@dataclass
class TaskContext:
    """What a task gets: its job, its arguments, the app and a way to report progress or see a cancel."""

    job_id: int
    args: dict[str, Any]
    app: Flask
    _last_progress: float = field(default=0.0, repr=False)
    _last_cancel_check: float = field(default=0.0, repr=False)

    @property
    def engine(self) -> Engine:
        return self.app.extensions["assembly_engine"]

    def progress(self, fraction: float, message: str = "") -> None:
        """Record progress (0..1) and a short message; throttled to one write per 0.5 s."""
        now = time.monotonic()
        if now - self._last_progress < 0.5 and fraction < 1.0:
            return
        self._last_progress = now
        with Session(self.engine) as db:
            db.execute(update(Job).where(Job.id == self.job_id)
                       .values(progress=max(0.0, min(1.0, fraction)), message=message[:500]))
            db.commit()

    def cancel_requested(self) -> bool:
        with Session(self.engine) as db:
            return db.get(JobCancel, self.job_id) is not None

    def check_cancelled(self, every_s: float = 1.0) -> None:
        """Raise `Cancelled` if a cancel was requested (the database is read at most every `every_s`)."""
        now = time.monotonic()
        if now - self._last_cancel_check < every_s:
            return
        self._last_cancel_check = now
        if self.cancel_requested():
            raise Cancelled()


TaskFn = Callable[[TaskContext], "str | None"]
_TASKS: dict[str, TaskFn] = {}


def background_task(kind: str) -> Callable[[TaskFn], TaskFn]:
    """Register `fn` as the task run for jobs of `kind` (at most 40 characters, the `job.kind` column)."""
    if len(kind) > 40:
        raise ValueError(f"task kind {kind!r} is longer than 40 characters")

    def register(fn: TaskFn) -> TaskFn:
        _TASKS[kind] = fn
        return fn

    return register


_STARTUP: list[Callable[[Flask], None]] = []


def on_worker_start(fn: Callable[[Flask], None]) -> Callable[[Flask], None]:
    """Register `fn(app)` to run when a worker starts (e.g. removing files a killed worker left)."""
    _STARTUP.append(fn)
    return fn


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_huey(url: str, instance_path: str, immediate: bool) -> Huey:
    """SqliteHuey on a file (default instance/tasks.db, or `sqlite:///PATH`), RedisHuey for `redis://`."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, immediate=immediate)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"HUEY_URL must be empty, sqlite:///PATH or redis://HOST:PORT/DB, not {url!r}")
    path = Path(url.removeprefix("sqlite:///")) if url else Path(instance_path) / "tasks.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(path), immediate=immediate)


class TaskQueue:
    """One per app: the Huey instance and the one Huey task that runs any registered kind by job id."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.huey = make_huey(app.config["HUEY_URL"], app.instance_path, app.config["HUEY_IMMEDIATE"])
        self._run = self.huey.task(name="assembly.run_job", context=True)(self._run_job)

    @property
    def engine(self) -> Engine:
        return self.app.extensions["assembly_engine"]

    def submit(self, job_id: int, delay: float | None = None) -> None:
        if delay:
            self._run.schedule(args=(job_id,), delay=delay)
        else:
            self._run(job_id)

    def _claim(self, job_id: int) -> str:
        """'claimed', 'gone' (cancelled or taken) or 'busy' (the same kind runs for the assembly)."""
        with Session(self.engine) as db:
            if db.get(JobCancel, job_id) is not None:
                self._finish(job_id, JobStatus.failed, CANCELLED, "")
                return "gone"
            try:
                res = db.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.queued)
                                 .values(status=JobStatus.running, owner=_owner(), started_at=utcnow()))
                db.commit()
            except IntegrityError:  # the partial unique index: one running job of a kind per assembly
                db.rollback()
                return "busy"
            return "claimed" if res.rowcount == 1 else "gone"

    def _run_job(self, job_id: int, task=None) -> None:
        with self.app.app_context():
            state = self._claim(job_id)
            if state == "busy":
                self.submit(job_id, delay=BUSY_RETRY_S)
                return
            if state == "gone":
                return
            with Session(self.engine) as db:
                kind = db.get(Job, job_id).kind
                row = db.get(JobArgs, job_id)
                args = json.loads(row.args_json) if row else {}
            fn = _TASKS.get(kind)
            ctx = TaskContext(job_id=job_id, args=args, app=self.app)
            try:
                if fn is None:
                    raise LookupError(f"no task is registered for job kind {kind!r} in this worker")
                outcome = (JobStatus.done, str(fn(ctx) or "done"), "")
            except Cancelled:
                outcome = (JobStatus.failed, CANCELLED, "")
            except Exception as exc:  # recorded on the job: the worker must go on with the next one
                log.exception("job %s (%s) failed", job_id, kind)
                outcome = (JobStatus.failed, f"failed: {exc}"[:500], traceback.format_exc()[-4000:])
            self._finish(job_id, *outcome)

    def _finish(self, job_id: int, status: JobStatus, message: str, error: str) -> None:
        for attempt in range(5):
            try:
                with Session(self.engine) as db:
                    values: dict[str, Any] = {"status": status, "message": message[:500], "error": error,
                                              "finished_at": utcnow()}
                    if status == JobStatus.done:
                        values["progress"] = 1.0
                    db.execute(update(Job).where(Job.id == job_id).values(**values))
                    db.commit()
                return
            except Exception:  # e.g. SQLite stayed locked past the busy timeout
                time.sleep(0.5 * (attempt + 1))


class JobArgs(SQLModel, table=True):
    """The arguments a job was enqueued with (JSON): Huey carries only the job id, so any worker can run it."""

    __tablename__ = "job_args"
    job_id: int = Field(primary_key=True, foreign_key="job.id", sa_type=BigInt)
    args_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


def queue() -> TaskQueue:
    return current_app.extensions["task_queue"]


def enqueue(db: Session, kind: str, assembly_id: int | None, args: dict[str, Any] | None = None) -> Job:
    """Record a queued job (with its JSON-able `args`) and hand its id to the queue; return the job row.

    In immediate mode (HUEY_IMMEDIATE, tests) the task runs before this returns.
    """
    if kind not in _TASKS:
        raise LookupError(f"no task registered for {kind!r}")
    args = dict(args or {})
    job = Job(kind=kind, assembly_id=assembly_id, status=JobStatus.queued)
    db.add(job)
    db.flush()
    db.add(JobArgs(job_id=job.id, args_json=json.dumps(args, sort_keys=True)))
    db.commit()
    try:
        queue().submit(job.id)
    except Exception as exc:  # e.g. Redis unreachable: the job must not sit "queued" forever
        queue()._finish(job.id, JobStatus.failed, f"could not reach the task queue: {exc}", traceback.format_exc())
        db.refresh(job)
        raise
    db.refresh(job)
    return job


def _stop_like_ctrl_c(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_here(db: Session, kind: str, assembly_id: int | None, work: Callable[[Job], Any]) -> Any:
    """Do `work` in this process (a CLI command in the foreground) under a job row this process
    owns, so that the rest of the platform sees it like a worker's job: if this process is killed,
    even by SIGKILL, `job_alive` finds its pid gone and the pages show the work as failed instead
    of running forever. SIGTERM stops it as Ctrl-C does, so its own clean-up runs."""
    import signal

    job = Job(kind=kind, assembly_id=assembly_id, status=JobStatus.running, owner=_owner(), started_at=utcnow())
    db.add(job)
    db.commit()
    q = queue()
    previous = signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        out = work(job)
    except BaseException as exc:
        q._finish(job.id, JobStatus.failed, "stopped" if isinstance(exc, KeyboardInterrupt) else "failed",
                  traceback.format_exc())
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    q._finish(job.id, JobStatus.done, "done", "")
    return out


def request_cancel(db: Session, job_id: int) -> None:
    """Ask a job to stop: a queued one never starts, a running one stops at its next check."""
    if db.get(JobCancel, job_id) is None:
        db.add(JobCancel(job_id=job_id))
    db.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.queued)
               .values(status=JobStatus.failed, message=CANCELLED, finished_at=utcnow()))
    db.commit()


def job_alive(db: Session, job: Job | None) -> bool:
    """Is this job queued or running in a live process? (Marks dead processes' jobs failed first.)"""
    if job is None:
        return False
    if job.status in (JobStatus.queued, JobStatus.running):
        mark_orphans_failed(db)
        db.refresh(job)
    return job.status in (JobStatus.queued, JobStatus.running)


@click.command("worker")
@click.option("--workers", default=1, show_default=True, help="Jobs run at once (threads); training uses every core.")
@click.option("--poll-max-s", default=2.0, show_default=True, help="Longest wait between polls of an idle queue.")
def worker_cmd(workers: int, poll_max_s: float) -> None:
    """Run the task-queue worker: training, generation and eval jobs (Ctrl-C stops it).

    `make run` starts one beside the web server. With HUEY_URL=redis://... workers may run on
    other machines (GPU hosts) against the same database.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    q = queue()
    if q.huey.immediate:
        raise click.ClickException("HUEY_IMMEDIATE is on: jobs run where they are enqueued, a worker has nothing to do")
    with Session(q.engine) as db:
        n = mark_orphans_failed(db)
    if n:
        click.echo(f"marked {n} job(s) of dead workers as failed")
    for fn in _STARTUP:
        fn(q.app)
    where = q.app.config["HUEY_URL"] or "instance/tasks.db"
    click.echo(f"worker {_owner()} on {where}; job kinds: {', '.join(sorted(_TASKS))}")
    q.huey.create_consumer(workers=workers, worker_type="thread", periodic=False, max_delay=poll_max_s).run()


def init_app(app: Flask) -> None:
    app.extensions["task_queue"] = TaskQueue(app)
    app.cli.add_command(worker_cmd)
