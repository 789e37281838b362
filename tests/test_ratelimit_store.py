"""assembly/ratelimit_store.py: rate-limit counts shared by processes through one SQLite file, and a
60/min vote limit that holds across 2 granian workers (it let 120 through with per-process memory)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from assembly.ratelimit_store import SQLiteStorage, default_uri
from tests.test_concurrency import ROOT, free_port, granian, prepare, wait_ready


def _hits(uri: str, n: int, out) -> None:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    out.put(sum(limiter.hit(parse("50 per minute"), "votes", "p1") for _ in range(n)))


def test_two_processes_share_one_count(tmp_path):
    uri = f"sqlite:///{tmp_path / 'limits.db'}"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hits, args=(uri, 40, out)) for _ in range(2)]
    for p in procs:
        p.start()
    accepted = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sum(accepted) == 50  # 80 hits against one 50/min window, from two processes


def test_a_window_expires_and_clear_resets(tmp_path):
    storage = storage_from_string(f"sqlite:///{tmp_path / 'limits.db'}")
    assert isinstance(storage, SQLiteStorage)
    assert storage.incr("k", expiry=1) == 1 and storage.incr("k", expiry=1, amount=2) == 3
    assert storage.get("k") == 3 and storage.get_expiry("k") > time.time()
    time.sleep(1.1)
    assert storage.get("k") == 0 and storage.incr("k", expiry=1) == 1  # a new window
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


def test_the_default_lives_beside_the_sqlite_database(tmp_path):
    assert default_uri(f"sqlite:///{tmp_path}/a.db", "/instance") == f"sqlite:///{tmp_path}/a.db-ratelimits"
    assert default_uri("postgresql+psycopg://u@h/db", str(tmp_path)) == f"sqlite:///{tmp_path}/ratelimits.db"
    with pytest.raises(ValueError, match="needs a file"):
        SQLiteStorage("sqlite:///:memory:")


def test_a_vote_limit_holds_across_two_granian_workers(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the embedded default storage sits beside a SQLite database; PostgreSQL uses instance/")
    prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "limits", "RATELIMIT_ENABLED": "1",
           "RATELIMIT_VOTES": "60 per day", "CLUSTERING_AUTO": "0", "RATELIMIT_STORAGE_URI": ""}
    proc = subprocess.Popen(granian(port, workers=2, threads=4), cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        try:
            wait_ready(base, lambda: proc.poll() is None)
        except RuntimeError as exc:
            pytest.skip(f"granian cannot run here: {exc}")
        token = requests.post(f"{base}/api/assemblies/busy/participants", json={}, timeout=10).json()["token"]

        # A day-long window: a minute-long one could close mid-test on a loaded machine and let 60 more through.
        def vote(i: int) -> int:
            # A fresh connection each time, so both workers take a share of the requests.
            return requests.post(f"{base}/api/assemblies/busy/votes", json={"tid": i % 10, "vote": 1},
                                 headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                                 timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(vote, range(150)))
        assert codes.count(201) == 60 and codes.count(429) == 90
    finally:
        proc.terminate()
        proc.wait(timeout=20)
