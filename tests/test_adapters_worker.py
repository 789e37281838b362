"""Training in a real, separate worker process (`flask worker`) through the SQLite Huey queue.

The web side only enqueues; a worker process trains and writes progress into the database. Killing
that worker with SIGKILL mid-run leaves the run "interrupted"; resuming it on a fresh worker
continues from the last checkpoint (not from step 0) and registers the adapter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from assembly.adapters import datasets, runs
from assembly.adapters.models import Adapter, RunStatus, TrainingRun
from assembly.models import Assembly
from finetune.checkpoints import checkpoints, problem
from tests.adapters_support import TINY, published_assembly
from tests.conftest import ROOT, make_app

pytestmark = pytest.mark.slow
FLASK = Path(sys.executable).with_name("flask")


@pytest.fixture
def setup(tmp_path):
    config = {"FINETUNE_DIR": str(tmp_path / "ft"), "HUEY_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
              "HUEY_IMMEDIATE": False, "CONSTITUTION_SIMILARITY": "char-ngram-tfidf"}
    url = f"sqlite:///{tmp_path / 'app.db'}"
    app = make_app(url, **config)
    a = published_assembly(app)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "worker-test", "CLUSTERING_AUTO": "0",
           "HUEY_IMMEDIATE": "0", "FINETUNE_DIR": config["FINETUNE_DIR"], "HUEY_URL": config["HUEY_URL"],
           "CONSTITUTION_SIMILARITY": "char-ngram-tfidf"}
    workers: list[subprocess.Popen] = []

    def start_worker() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(workers)}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([str(FLASK), "--app", "app", "worker"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        workers.append(proc)
        return proc

    yield app, a, start_worker, tmp_path
    for proc in workers:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    app.extensions["assembly_engine"].dispose()


def wait_for(predicate, timeout: float, what: str, logs: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    tails = "\n".join(p.read_text()[-3000:] for p in sorted(logs.glob("worker-*.log")))
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def test_worker_trains_sigkill_interrupts_and_resume_continues_from_the_checkpoint(setup):
    app, a, start_worker, tmp = setup
    engine = app.extensions["assembly_engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        assembly = db.get(Assembly, a.id)
        ds = datasets.dataset_for(app, db, assembly, datasets.published_version(db, assembly, None))
        run = runs.start(app, db, assembly, ds, base_model=TINY, method="sft", steps=24, name="resumed",
                         extra={"save_steps": 2})
    assert run.status == RunStatus.queued  # nothing ran in this (web) process
    first = start_worker()

    def progressed():
        with Session(engine) as db:
            r = db.get(TrainingRun, run.id)
            ckpts = list((tmp / "ft" / "runs" / str(run.id) / "sft").glob("checkpoint-*"))
            return r.status == RunStatus.running and r.step >= 4 and len(ckpts) >= 1 and r

    seen = wait_for(progressed, 240, "the worker to train a few steps", tmp)
    assert seen.loss is not None and seen.tokens_per_s and seen.max_steps == 24
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # What resume must continue from is on disk, not in the row: the step column is written at most
    # once a second, so the worker may have saved checkpoints the row never showed. The newest
    # readable checkpoint folder is the truth (a half-written newest one, killed mid-save, is skipped
    # exactly as resume skips it).
    stage = tmp / "ft" / "runs" / str(run.id) / "sft"
    readable = [c for c in checkpoints(stage) if problem(c) is None]
    assert readable, f"no readable checkpoint in {stage}: {sorted(p.name for p in stage.iterdir())}"
    last_checkpoint = int(readable[0].name.removeprefix("checkpoint-"))
    assert 2 <= last_checkpoint < 24

    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        r = runs.sync(db, db.get(TrainingRun, run.id))
        assert r.status == RunStatus.interrupted
        assert 4 <= r.step < 24
        assert db.query(Adapter).count() == 0  # nothing half-registered
        runs.resume(db, r)
    start_worker()

    def finished():
        with Session(engine) as db:
            r = db.get(TrainingRun, run.id)
            return r.status not in (RunStatus.queued, RunStatus.running) and r

    done = wait_for(finished, 300, "the resumed run to finish", tmp)
    assert done.status == RunStatus.done, done.error
    assert done.attempts == 2 and done.step == 24
    assert "resumed at step" in done.log
    resumed_from = int(done.log.split("resumed at step ")[1].split("/")[0])
    assert resumed_from == last_checkpoint  # the last checkpoint written before the kill, not step 0
    with Session(engine) as db:
        adapter = db.query(Adapter).one()
        assert adapter.name == "resumed" and adapter.run_id == run.id
