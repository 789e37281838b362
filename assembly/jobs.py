"""Background jobs with status and progress kept in the database.

Why in-process threads: the work here (reclustering an assembly) is seconds of
numpy/torch that releases the GIL, the embedded default is one process, and a
row per job in the `job` table lets every web worker show status and progress.
A job whose process died is marked failed at the next start, so it is visible,
not lost. Debouncing (`debounce`) coalesces a burst of votes into one run and
never blocks the request that triggered it. Starting a job is a claim on its
database row, so only one job of a kind runs per assembly at a time, even with
several web workers hearing the same votes.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from assembly.models import Job, JobStatus, utcnow

Progress = Callable[[float, str], None]
Work = Callable[[Session, Progress], str]

def _owner() -> str:
    # Recomputed lazily: a server may fork its workers after import, so the pid changes.
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Runs work in daemon threads; one per app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self._orphans_checked = False
        self._starting = 0  # debounced runs between their timer firing and their thread starting

    @property
    def engine(self):
        return self.app.extensions["assembly_engine"]

    def submit(self, kind: str, assembly_id: int | None, work: Work) -> int | None:
        """Claim and start a job in a thread and return its id; None while one of this kind runs for the assembly.

        The claim is the row itself: it is inserted as running, and the partial unique
        index on (kind, assembly_id) refuses a second running row, in any process.
        """
        for attempt in range(2):
            with Session(self.engine) as db:
                if not self._orphans_checked or attempt:
                    mark_orphans_failed(db)  # a dead process's claim must not block forever
                    self._orphans_checked = True
                job = Job(kind=kind, assembly_id=assembly_id, owner=_owner(), status=JobStatus.running,
                          started_at=utcnow())
                db.add(job)
                try:
                    db.commit()
                except IntegrityError:
                    db.rollback()
                    continue
                job_id = job.id
            thread = threading.Thread(target=self._run, args=(job_id, work), name=f"job-{job_id}", daemon=True)
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]
            thread.start()
            return job_id
        return None

    def debounce(self, key: str, delay_s: float, kind: str, assembly_id: int | None, work: Work) -> None:
        """Run `work` once, `delay_s` after the first of a burst of calls with the same key.

        If the same job is already running (here or in another process), try again
        `delay_s` later: the votes that scheduled this run are read by a run that starts after them.
        """
        with self._lock:
            if key in self._timers:
                return

            def fire() -> None:
                # The key is released before the run reads any votes, so a vote that
                # arrives during the run schedules another one: no vote is left out.
                with self._lock:
                    self._timers.pop(key, None)
                    self._starting += 1
                try:
                    if self.submit(kind, assembly_id, work) is None:
                        self.debounce(key, delay_s, kind, assembly_id, work)
                finally:
                    with self._lock:
                        self._starting -= 1

            timer = threading.Timer(delay_s, fire)
            timer.daemon = True
            self._timers[key] = timer
            timer.start()

    def _run(self, job_id: int, work: Work) -> None:
        with self.app.app_context(), Session(self.engine, expire_on_commit=False) as db:
            last = [0.0]

            def progress(fraction: float, message: str = "") -> None:
                # Throttled: a progress write at most every 0.2 s keeps the writer lock free for votes.
                now = time.monotonic()
                if now - last[0] < 0.2 and fraction < 1.0:
                    return
                last[0] = now
                with Session(self.engine) as pdb:
                    row = pdb.get(Job, job_id)
                    row.progress, row.message = max(0.0, min(1.0, fraction)), message[:500]
                    pdb.add(row)
                    pdb.commit()

            try:
                outcome = (JobStatus.done, (work(db, progress) or "done")[:500], "")
            except Exception:
                db.rollback()
                outcome = (JobStatus.failed, "failed", traceback.format_exc()[-4000:])
        self._finish(job_id, *outcome)

    def _finish(self, job_id: int, status: JobStatus, message: str, error: str) -> None:
        """Record the outcome, retrying: a row left 'running' by a live process would hold the claim."""
        for attempt in range(5):
            try:
                with Session(self.engine) as db:
                    job = db.get(Job, job_id)
                    job.status, job.message, job.error, job.finished_at = status, message, error, utcnow()
                    if status == JobStatus.done:
                        job.progress = 1.0
                    db.add(job)
                    db.commit()
                return
            except OperationalError:  # e.g. the database stayed locked past the busy timeout
                time.sleep(0.5 * (attempt + 1))

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for pending debounced work and running threads (tests and the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = bool(self._timers) or self._starting > 0
            alive = [t for t in self.threads if t.is_alive()]
            if not pending and not alive:
                return
            time.sleep(0.02)
        raise TimeoutError("background jobs did not finish in time")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_orphans_failed(db: Session) -> int:
    """Mark queued/running jobs of dead processes on this host as failed; return how many."""
    host = socket.gethostname()
    n = 0
    for job in db.exec(select(Job).where(Job.status.in_([JobStatus.queued, JobStatus.running]))):
        job_host, _, pid = job.owner.rpartition(":")
        if job_host == host and pid.isdigit() and not _pid_alive(int(pid)):
            job.status, job.finished_at = JobStatus.failed, utcnow()
            job.error = job.error or "the process running this job ended before it finished"
            db.add(job)
            n += 1
    db.commit()
    return n


@click.group("jobs", cls=AppGroup)
def jobs_cli() -> None:
    """Background jobs."""


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True, help="How many recent jobs to show.")
def list_cmd(limit: int) -> None:
    """Show recent jobs with status and progress."""
    with Session(current_app.extensions["assembly_engine"]) as db:
        for job in db.exec(select(Job).order_by(Job.id.desc()).limit(limit)):
            click.echo(f"{job.id:>5} {job.kind:<12} {job.status.value:<8} {job.progress:6.1%} {job.message}")


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = JobRunner(app)
    app.cli.add_command(jobs_cli)
