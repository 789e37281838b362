"""The networked queue mode: a real Redis server, HUEY_URL=redis://..., and a separate `flask worker`.

The SQLite mode is covered by tests/test_adapters_worker.py; this is the mode a deployment uses
when workers live on other (GPU) machines. The web side enqueues a training job on the tiny test
model into Redis, and a worker process started with the same HUEY_URL takes it from there, trains
and registers the adapter. Skipped, with the reason, where redis-server or the `redis` client
(the `redis` extra) is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from assembly.adapters import datasets, runs
from assembly.adapters.models import Adapter, RunStatus, TrainingRun
from assembly.models import Assembly, Job, JobStatus
from tests.adapters_support import TINY, published_assembly
from tests.conftest import ROOT, make_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None,
                       reason="redis-server is not installed (apt-get install -y redis-server)"),
    pytest.mark.skipif(importlib.util.find_spec("redis") is None,
                       reason="the redis client is not installed (pip install -e '.[redis]')"),
]
FLASK = Path(sys.executable).with_name("flask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a free port, no persistence, stopped after the test."""
    import redis

    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):  # up to ~20 s on a loaded machine
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("redis-server did not answer PING")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_a_job_queued_in_redis_is_trained_by_a_separate_worker(tmp_path, redis_url):
    import redis

    config = {"FINETUNE_DIR": str(tmp_path / "ft"), "HUEY_URL": redis_url, "HUEY_IMMEDIATE": False,
              "CONSTITUTION_SIMILARITY": "char-ngram-tfidf"}
    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    app = make_app(db_url, **config)
    a = published_assembly(app)
    engine = app.extensions["assembly_engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        assembly = db.get(Assembly, a.id)
        ds = datasets.dataset_for(app, db, assembly, datasets.published_version(db, assembly, None))
        run = runs.start(app, db, assembly, ds, base_model=TINY, method="sft", steps=3, name="via-redis")
    assert run.status == RunStatus.queued  # nothing ran in this (web) process
    # The job id is in Redis now, not in any SQLite queue file: the worker can only learn of it there.
    assert app.extensions["task_queue"].huey.pending_count() == 1
    assert not (tmp_path / "tasks.db").exists()

    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "redis-test", "CLUSTERING_AUTO": "0",
           "HUEY_IMMEDIATE": "0", "FINETUNE_DIR": config["FINETUNE_DIR"], "HUEY_URL": redis_url,
           "CONSTITUTION_SIMILARITY": "char-ngram-tfidf"}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(FLASK), "--app", "app", "worker"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with Session(engine) as db:
                r = db.get(TrainingRun, run.id)
                job = db.get(Job, r.job_id) if r.job_id else None
                # the job row is closed just after the task returns, so wait for both
                if r.status not in (RunStatus.queued, RunStatus.running) and job is not None and \
                        job.status not in (JobStatus.queued, JobStatus.running):
                    break
            assert worker.poll() is None, f"the worker exited:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.25)
        else:
            raise AssertionError(f"the run did not finish:\n{log_path.read_text()[-3000:]}")
    finally:
        worker.kill()
        worker.wait(timeout=10)
    with Session(engine) as db:
        r = db.get(TrainingRun, run.id)
        assert r.status == RunStatus.done, r.error
        job = db.get(Job, r.job_id)
        assert job.status == JobStatus.done and job.owner.endswith(f":{worker.pid}")  # the worker ran it
        adapter = db.query(Adapter).one()
        assert adapter.name == "via-redis" and adapter.run_id == run.id
    assert redis.Redis.from_url(redis_url).ping()
    assert app.extensions["task_queue"].huey.pending_count() == 0
    engine.dispose()
