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


def test_one_job_of_a_kind_per_assembly_runs_at_a_time_across_runners(app, assembly):
    """Two apps on one database stand for two web workers: their debounced runs never overlap."""
    from app import create_app

    url = app.config["DATABASE_URL"]
    runners = [create_app({"DATABASE_URL": url, "SECRET_KEY": "t"}).extensions["jobs"] for _ in range(2)]
    lock, running, overlaps, runs = threading.Lock(), [0], [], []

    def work(session, progress):
        with lock:
            running[0] += 1
            overlaps.append(running[0])
        threading.Event().wait(0.3)
        with lock:
            running[0] -= 1
            runs.append(1)
        return "ok"

    for runner in runners:
        runner.debounce(f"cluster:{assembly.id}", 0.05, "cluster", assembly.id, work)
    for runner in runners:
        runner.wait()
    assert max(overlaps) == 1
    assert len(runs) == 2, "the refused runner tried again after the other finished"


def test_claim_of_a_dead_process_does_not_block(app, db, assembly):
    import socket

    db.add(Job(kind="cluster", assembly_id=assembly.id, status=JobStatus.running,
               owner=f"{socket.gethostname()}:999999999"))
    db.commit()
    runner = app.extensions["jobs"]
    runner._orphans_checked = True  # as in a worker that started before that process died
    job_id = runner.submit("cluster", assembly.id, lambda session, progress: "ran")
    runner.wait()
    assert job_id is not None and db.get(Job, job_id).message == "ran"


def test_a_live_claim_refuses_a_second_job(app, db, assembly):
    import socket

    db.add(Job(kind="cluster", assembly_id=assembly.id, status=JobStatus.running,
               owner=f"{socket.gethostname()}:1"))  # pid 1 is alive
    db.commit()
    assert app.extensions["jobs"].submit("cluster", assembly.id, lambda s, p: "ran") is None
    assert app.extensions["jobs"].submit("cluster", None, lambda s, p: "ran") is not None
