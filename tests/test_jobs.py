"""Background jobs: status, progress, failures recorded, orphans marked failed, debouncing."""

from __future__ import annotations

import threading

from sqlmodel import select

from assembly.jobs import mark_orphans_failed
from assembly.models import Job, JobStatus


def test_job_runs_and_records_progress(app, db):
    runner = app.extensions["jobs"]
    seen = []

    def work(session, progress):
        progress(0.5, "half way")
        seen.append(True)
        return "all done"

    job_id = runner.submit("test", None, work)
    runner.wait()
    job = db.get(Job, job_id)
    assert seen == [True]
    assert (job.status, job.progress, job.message) == (JobStatus.done, 1.0, "all done")
    assert job.started_at is not None and job.finished_at is not None


def test_failing_job_is_visible_with_its_error(app, db):
    runner = app.extensions["jobs"]

    def work(session, progress):
        raise RuntimeError("matrix exploded")

    job_id = runner.submit("test", None, work)
    runner.wait()
    job = db.get(Job, job_id)
    assert job.status == JobStatus.failed
    assert "matrix exploded" in job.error


def test_jobs_of_dead_processes_are_marked_failed(db):
    import socket

    db.add(Job(kind="cluster", status=JobStatus.running, owner=f"{socket.gethostname()}:999999999"))
    db.add(Job(kind="cluster", status=JobStatus.running, owner="other-host:1"))
    db.commit()
    assert mark_orphans_failed(db) == 1
    statuses = sorted(j.status.value for j in db.exec(select(Job)))
    assert statuses == ["failed", "running"]


def test_debounce_coalesces_a_burst_into_one_run(app):
    runner = app.extensions["jobs"]
    calls = []
    lock = threading.Lock()

    def work(session, progress):
        with lock:
            calls.append(1)
        return "ok"

    for _ in range(25):
        runner.debounce("cluster:1", 0.2, "cluster", None, work)
    runner.wait()
    assert calls == [1]
