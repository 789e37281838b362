"""Durability under concurrency: many voters against a real multi-process server on one database.

The promise under test: a vote request answers 201 only after the vote is
committed, so every acknowledged vote is in the database exactly once, and
concurrent writers queue (on SQLite's lock with WAL + busy timeout, or on
PostgreSQL's row locks and unique indexes) instead of failing with 5xx.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlmodel import Session

from app import create_app
from assembly.db import make_engine
from assembly.migrate import upgrade
from assembly.models import Assembly, Statement

ROOT = Path(__file__).resolve().parent.parent
VOTERS = 40
VOTES_EACH = 15
STATEMENTS = 10  # fewer statements than votes: voters change their minds, which must be new events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "concurrency"})
    engine = app.extensions["assembly_engine"]
    upgrade(engine)
    with Session(engine) as db:
        a = Assembly(slug="busy", title="Busy assembly")
        db.add(a)
        db.commit()
        db.add_all(Statement(assembly_id=a.id, tid=i, text=f"Statement {i}") for i in range(STATEMENTS))
        db.commit()
    engine.dispose()


def granian(port: int, *, workers: int, threads: int) -> list[str]:
    """The production server's command line (README), on loopback."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--http", "1", "--factory",
            "--workers", str(workers), "--blocking-threads", str(threads), "--respawn-failed-workers",
            "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-ws", "app:create_app"]


def wait_ready(base: str, alive, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited before answering")
        try:
            if requests.get(f"{base}/api/assemblies/busy", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not answer in time")


@pytest.fixture
def server(database_url):
    """Base URL of granian, the production server (2 worker processes x 4 threads), on loopback;
    werkzeug threaded as a fallback."""
    prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Background reclustering on, as in production: its job rows are writes that compete with the votes.
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "concurrency",
           "RATELIMIT_ENABLED": "0", "CLUSTERING_AUTO": "1"}
    cmd = granian(port, workers=2, threads=4)
    proc = None
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE)
        wait_ready(base, lambda: proc.poll() is None)
        yield base, database_url, "granian"
    except (OSError, RuntimeError) as exc:
        # granian cannot run here (not installed, no fork): the same app on werkzeug's threaded server.
        if proc is not None:
            proc.kill()
            _, err = proc.communicate(timeout=15)
            print(f"granian failed ({exc}): {err.decode(errors='replace')[-2000:]}", file=sys.stderr)
        proc = None
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        from werkzeug.serving import make_server

        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "concurrency",
                          "RATELIMIT_ENABLED": False})
        httpd = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        wait_ready(base, thread.is_alive)
        yield base, database_url, "werkzeug"
        httpd.shutdown()
        app.extensions["assembly_engine"].dispose()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)


def voter(base: str, start: threading.Barrier, seed: int) -> tuple[str, int, list, list]:
    """Join, wait for everyone, then vote; returns (token, pid, acknowledged votes, other outcomes)."""
    rng = random.Random(seed)
    with requests.Session() as http:
        r = http.post(f"{base}/api/assemblies/busy/participants", json={}, timeout=30)
        assert r.status_code == 201, r.text
        token, pid = r.json()["token"], r.json()["pid"]
        http.headers["Authorization"] = f"Bearer {token}"
        acks, others = [], []
        start.wait(timeout=30)
        for _ in range(VOTES_EACH):
            tid, value = rng.randrange(STATEMENTS), rng.choice((-1, 0, 1))
            try:
                r = http.post(f"{base}/api/assemblies/busy/votes", json={"tid": tid, "vote": value}, timeout=30)
            except requests.RequestException as exc:  # no retry: a retried vote could be stored twice
                others.append(type(exc).__name__)
                continue
            if r.status_code == 201:
                acks.append((tid, value, r.json()["id"]))
            else:
                others.append(f"{r.status_code} {r.text[:200]}")
    return token, pid, acks, others


def test_every_acknowledged_vote_is_stored_exactly_once(server):
    base, database_url, kind = server
    start = threading.Barrier(VOTERS)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=VOTERS) as pool:
        results = list(pool.map(lambda i: voter(base, start, i), range(VOTERS)))
    elapsed = time.monotonic() - t0

    print(f"{VOTERS * VOTES_EACH} votes from {VOTERS} voters on {kind} in {elapsed:.1f} s")
    others = [o for *_, outcome in results for o in outcome]
    assert others == [], f"non-201 outcomes on {kind}: {others[:5]}"
    assert sorted(pid for _, pid, _, _ in results) == list(range(VOTERS)), "concurrent joins got distinct pids"

    engine = make_engine(database_url)  # read back on an engine of our own, not through the server under test
    with engine.connect() as con:
        token_to_id = dict(con.execute(text("SELECT token, id FROM participant")).all())
        tid_to_id = dict(con.execute(text("SELECT tid, id FROM statement")).all())
        rows = {vid: (p, s, v) for vid, p, s, v in con.execute(
            text("SELECT id, participant_id, statement_id, value FROM vote"))}
    engine.dispose()

    acknowledged = {
        vid: (token_to_id[token], tid_to_id[tid], value)
        for token, _, acks, _ in results for tid, value, vid in acks
    }
    total_acks = sum(len(acks) for _, _, acks, _ in results)
    assert total_acks == VOTERS * VOTES_EACH
    assert len(acknowledged) == total_acks, "two acknowledgements named the same vote id"
    assert rows == acknowledged, f"database differs from acknowledgements on {kind} ({elapsed:.1f} s)"


def test_server_with_a_clustering_process_stops_on_sigterm(database_url):
    """A worker whose background recluster started a clustering process still exits when told to.

    (granian's workers are multiprocessing children: without the pool's finalizer they waited forever.)
    """
    prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "concurrency", "RATELIMIT_ENABLED": "0",
           "CLUSTERING_AUTO": "1", "CLUSTERING_DEBOUNCE_S": "0.2"}
    cmd = granian(port, workers=1, threads=1)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        try:
            wait_ready(base, lambda: proc.poll() is None)
        except RuntimeError as exc:
            pytest.skip(f"granian cannot run here: {exc}")
        with requests.Session() as http:
            token = http.post(f"{base}/api/assemblies/busy/participants", json={}, timeout=30).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            for tid in range(3):
                assert http.post(f"{base}/api/assemblies/busy/votes", json={"tid": tid, "vote": 1},
                                 timeout=30).status_code == 201
            deadline = time.monotonic() + 60
            while http.get(f"{base}/api/assemblies/busy/results", timeout=30).json()["clustering"] is None:
                assert time.monotonic() < deadline, "the background recluster did not store a run"
                time.sleep(0.2)
        proc.terminate()
        assert proc.wait(timeout=20) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
