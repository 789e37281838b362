"""Work a CLI command does in its own process runs under a job row that process owns, so a kill of
the process (even SIGKILL, which runs no clean-up) shows as a failed job, never as running forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assembly.models import Job
from assembly.tasks import job_alive, run_here
from tests.conftest import ROOT, make_app

CHILD = """
import sys, time
from sqlmodel import Session
from app import create_app
from assembly.tasks import run_here
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x", "TESTING": True, "CLUSTERING_AUTO": False})
with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
    def work(job):
        print(job.id, flush=True)
        time.sleep(600)
    run_here(db, "evals.run", None, work)
"""


@pytest.fixture
def app(database_url):
    return make_app(database_url)


def _jobs(app) -> list[Job]:
    with Session(app.extensions["assembly_engine"]) as db:
        return list(db.exec(select(Job).order_by(Job.id)))


def test_done_and_failed_work_leave_the_job_finished(app):
    with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
        assert run_here(db, "evals.run", None, lambda job: job.id * 10) == _jobs(app)[-1].id * 10
        with pytest.raises(ValueError, match="bad model"):
            run_here(db, "evals.run", None, lambda job: (_ for _ in ()).throw(ValueError("bad model")))
    done, failed = _jobs(app)
    assert (done.status, failed.status) == ("done", "failed")
    assert "bad model" in failed.error and failed.finished_at is not None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_process_leaves_a_failed_job_not_a_running_one(app, database_url, sig):
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(Path(ROOT))})
    try:
        job_id = int(child.stdout.readline())
        with Session(app.extensions["assembly_engine"]) as db:
            job = db.get(Job, job_id)
            assert job.status == "running" and job_alive(db, job)
        child.send_signal(sig)
        child.wait(timeout=60)
    finally:
        child.kill()
    with Session(app.extensions["assembly_engine"]) as db:
        job = db.get(Job, job_id)
        assert not job_alive(db, job)  # SIGKILL: found dead by its pid; SIGTERM: it recorded the stop itself
        db.refresh(job)
        assert job.status == "failed" and job.finished_at is not None
    if sig == signal.SIGTERM:
        assert "KeyboardInterrupt" in job.error  # its clean-up ran: the outcome was written by the process
