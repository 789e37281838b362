"""The README's production granian command replaces a worker that dies (issue 11).

Without --respawn-failed-workers granian shut the whole server down when one worker died, and the
dead worker's clustering process was left orphaned (it now watches its parent: assembly/results/process.py).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from assembly.db import make_engine
from tests.test_concurrency import ROOT, STATEMENTS, free_port, prepare, wait_ready

VOTERS = 8


def readme_command() -> list[str]:
    """The production command exactly as README.md gives it, to run with this interpreter."""
    match = re.search(r"`granian (--[^`]*app:create_app)`", (ROOT / "README.md").read_text())
    assert match, "README.md gives no granian command"
    return [sys.executable, "-m", "granian", *match.group(1).split()]


def test_the_readme_command_respawns_failed_workers():
    assert "--respawn-failed-workers" in readme_command()


def processes() -> dict[int, int]:
    """Every live process on this machine as pid -> parent pid (zombies left out), from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] != "Z":
                found[int(entry)] = int(fields[1])
    return found


def descendants(root: int) -> dict[int, int]:
    """The live descendants of `root` as pid -> depth (1 = child)."""
    table, found, frontier, depth = processes(), {}, [root], 1
    while frontier:
        frontier = [pid for pid, ppid in table.items() if ppid in frontier]
        found.update((pid, depth) for pid in frontier)
        depth += 1
    return found


def vote_until(base: str, stop: threading.Event, seed: int) -> tuple[str, list, list]:
    """Join, then vote on fresh connections (so both workers serve) until told to stop.

    Returns (token, acknowledged (tid, value, vote id, monotonic time), failures). No retries:
    a retried vote could be stored twice, and this test checks that it is stored once."""
    rng = random.Random(seed)
    token = requests.post(f"{base}/api/assemblies/busy/participants", json={}, timeout=60).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    acks, failures = [], []
    while not stop.is_set():
        tid, value = rng.randrange(STATEMENTS), rng.choice((-1, 0, 1))
        try:
            r = requests.post(f"{base}/api/assemblies/busy/votes", json={"tid": tid, "vote": value},
                              headers=headers, timeout=60)
        except requests.RequestException as exc:  # the killed worker's connections break: expected
            failures.append(type(exc).__name__)
            continue
        if r.status_code == 201:
            acks.append((tid, value, r.json()["id"], time.monotonic()))
        else:
            failures.append(f"{r.status_code} {r.text[:200]}")
    return token, acks, failures


def wait_for(condition, what: str, timeout: float = 180.0) -> None:
    """Poll `condition` until true; a generous deadline that only catches a hang, never a slow machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def kill_a_worker(server: subprocess.Popen, seen: set[int]) -> float:
    """kill -9 a worker of `server` that runs a clustering process, wait until it is replaced; the kill's time."""

    def a_worker_with_a_clustering_process() -> int | None:
        tree = descendants(server.pid)
        seen.update(tree)
        for pid, depth in tree.items():
            if depth == 1 and any(d == 1 for d in descendants(pid).values()):
                return pid
        return None

    # Long deadlines: the first recluster imports torch in a process at nice 10 on a loaded machine.
    wait_for(a_worker_with_a_clustering_process, "no worker started a clustering process", timeout=600)
    victim = a_worker_with_a_clustering_process()
    seen.update(descendants(victim))
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: server.poll() is not None or len([p for p, d in descendants(server.pid).items()
                                                        if d == 1 and p != victim]) >= 2,
             "the killed worker was not replaced", timeout=600)
    assert server.poll() is None, "granian shut down after one worker died"
    seen.update(descendants(server.pid))
    return killed_at


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds granian's workers in /proc")
def test_the_readme_command_survives_kill_9_of_a_worker_under_load(database_url):
    """kill -9 of one worker (the one running a clustering process) while 8 voters vote: the server
    goes on acknowledging votes, every acknowledged vote is stored once, and no process is left."""
    prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = readme_command()
    cmd[-1:-1] = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--respawn-interval", "0.5"]
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "survival", "RATELIMIT_ENABLED": "0",
           "CLUSTERING_AUTO": "1", "CLUSTERING_DEBOUNCE_S": "0.2"}
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)  # stderr inherited: an unread pipe could fill and block it
    seen: set[int] = set()  # every process the server started, to check none outlives it
    stop = threading.Event()
    try:
        try:
            wait_ready(base, lambda: server.poll() is None, timeout=120)
        except RuntimeError as exc:
            pytest.skip(f"granian cannot run here: {exc}")
        with ThreadPoolExecutor(max_workers=VOTERS) as pool:
            futures = [pool.submit(vote_until, base, stop, i) for i in range(VOTERS)]
            try:
                killed_at = kill_a_worker(server, seen)
                time.sleep(5)  # let the voters run against the respawned worker
            finally:
                stop.set()  # also on a failed assertion: the pool waits for its voters
            results = [f.result() for f in futures]

    finally:
        stop.set()
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=60)
    after_kill = sum(1 for _, acks, _ in results for *_, t in acks if t > killed_at + 1)
    assert after_kill > 0, "no vote was acknowledged after the kill"
    unexpected = [f for _, _, fails in results for f in fails if f[:1].isdigit()]
    assert unexpected == [], f"answers other than 201 or a broken connection: {unexpected[:5]}"

    engine = make_engine(database_url)  # read back on an engine of our own
    with engine.connect() as con:
        token_to_id = dict(con.execute(text("SELECT token, id FROM participant")).all())
        tid_to_id = dict(con.execute(text("SELECT tid, id FROM statement")).all())
        rows = {vid: (p, s, v) for vid, p, s, v in con.execute(
            text("SELECT id, participant_id, statement_id, value FROM vote"))}
    engine.dispose()
    acknowledged = [(vid, (token_to_id[token], tid_to_id[tid], value))
                    for token, acks, _ in results for tid, value, vid, _ in acks]
    assert len({vid for vid, _ in acknowledged}) == len(acknowledged), "two acknowledgements named one vote id"
    assert all(rows.get(vid) == vote for vid, vote in acknowledged), "an acknowledged vote is missing or changed"
    failed = sum(len(fails) for _, _, fails in results)
    assert len(rows) - len(acknowledged) <= failed, "votes stored that nobody sent"  # each broken request: 0 or 1

    def leftovers() -> list[int]:
        alive = processes()
        return [pid for pid in seen if pid in alive and pid != os.getpid()]

    wait_for(lambda: not leftovers(), "processes outlived the server", timeout=60)


def test_the_readme_command_kills_workers_that_refuse_to_stop():
    command = readme_command()
    assert command[command.index("--workers-kill-timeout") + 1] == "10"
