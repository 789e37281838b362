"""Voting load: many participants join through the JSON API and vote against gunicorn on a fresh SQLite file.

Prints sustained votes/s, latency percentiles and the durability check: every
vote the server acknowledged (201 with a vote id) is looked up in the database
afterwards; a missing or different row is a lost vote, a stored row nobody got
an acknowledgement for is reported as unacknowledged.

The load generator is one asyncio process with a minimal HTTP/1.1 keep-alive
client (one connection per voter, no retries, so the client never stores a vote
twice); the server is granian, the production server (HTTP in Rust), or gunicorn
for comparison (--server), with --workers processes x --threads threads. Both
share the machine's cores: see docs/benchmarks.md. Rate limits are switched off for the server
(RATELIMIT_ENABLED=0): they cap one participant at 60 votes a minute.

    python benchmarks/voting_load.py --seconds 20 --voters 32
    python benchmarks/voting_load.py --server gunicorn --workers 4   # the peer, side by side
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="how long to vote (default 20)")
    p.add_argument("--voters", type=int, default=32, help="simulated participants voting at once (default 32)")
    p.add_argument("--statements", type=int, default=1000, help="statements in the assembly (default 1000)")
    p.add_argument("--think-ms", type=float, default=0.0, help="pause of each voter between votes (default 0)")
    p.add_argument("--server", choices=["granian", "gunicorn"], default="granian",
                   help="WSGI server (default granian, as in production; gunicorn to compare)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    p.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"],
                   help="gunicorn's worker class (default gthread: keeps connections alive)")
    p.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL", help="SQLite synchronous")
    p.add_argument("--gunicorn-config", type=Path, default=None,
                   help="extra gunicorn config file, e.g. with hooks that profile the workers")
    p.add_argument("--db", type=Path, default=None, help="SQLite file to create (default: a temporary one)")
    return p.parse_args(argv)


def prepare_db(path: Path, statements: int) -> None:
    """A migrated database with one open assembly 'bench' and its seed statements."""
    if path.exists():
        raise SystemExit(f"{path} exists; the benchmark needs a fresh database")
    from sqlmodel import Session

    from app import create_app
    from assembly.migrate import upgrade
    from assembly.models import Assembly, Statement

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    engine = app.extensions["assembly_engine"]
    upgrade(engine)
    with Session(engine) as db:
        a = Assembly(slug="bench", title="Benchmark", question="Load test")
        db.add(a)
        db.commit()
        # Bulk insert: add_statement's duplicate check is O(n) per statement and not what is measured here.
        db.add_all(Statement(assembly_id=a.id, tid=i, text=f"Statement number {i}", is_seed=True)
                   for i in range(statements))
        db.commit()
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, args: argparse.Namespace) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "bench-secret",
        "RATELIMIT_ENABLED": "0",
        "SQLITE_SYNCHRONOUS": args.synchronous,
    }
    if args.server == "granian":
        cmd = [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--http", "1", "--factory",
            "--workers", str(args.workers), "--blocking-threads", str(args.threads),
            "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--backlog", "2048", "--no-ws", "app:create_app",
        ]
        return subprocess.Popen(cmd, cwd=ROOT, env=env)
    cmd = [
        sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", args.worker_class,
        "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--backlog", "2048", *(["--config", str(args.gunicorn_config)] if args.gunicorn_config else []),
        "app:create_app()",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the cores with the server,
    and this costs a fraction of a general-purpose client's CPU per request."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """(status, parsed JSON body). Never retries: a retried vote could be stored twice."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionResetError("server closed the connection")
            length, close = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            payload = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            raise
        if close:
            self.close()
        return int(status_line.split()[1]), (json.loads(payload) if payload else None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        conn = Connection("127.0.0.1", port)
        try:
            status, _ = await conn.request("GET", "/api/assemblies/bench")
            if status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.1)
    raise SystemExit("gunicorn did not answer in time")


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [master, *pids]


async def run_load(port: int, args: argparse.Namespace, proc: subprocess.Popen) -> dict:
    await wait_ready(port, proc)
    acks: list[tuple[str, int, int, int]] = []  # (token, tid, value, vote id)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    conns = [Connection("127.0.0.1", port) for _ in range(args.voters)]

    async def join(conn: Connection) -> str:
        status, body = await conn.request("POST", "/api/assemblies/bench/participants", {})
        assert status == 201, body
        return body["token"]

    t0 = time.perf_counter()
    tokens = await asyncio.gather(*(join(c) for c in conns))
    join_s = time.perf_counter() - t0
    pids = server_pids(proc.pid)
    cpu0 = (process_cpu(pids), process_cpu([os.getpid()]))
    stop_at = time.perf_counter() + args.seconds

    async def voter(conn: Connection, token: str, rng: random.Random) -> None:
        order = list(range(args.statements))
        while True:
            rng.shuffle(order)  # after every statement, vote again: changes of mind are new events
            for tid in order:
                if time.perf_counter() >= stop_at:
                    return
                value = rng.choice((-1, 0, 1))
                start = time.perf_counter()
                try:
                    status, body = await conn.request("POST", "/api/assemblies/bench/votes",
                                                      {"tid": tid, "vote": value}, token)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - start)
                if status == 201:
                    acks.append((token, tid, value, body["id"]))
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                if args.think_ms:
                    await asyncio.sleep(args.think_ms / 1000 * rng.uniform(0.5, 1.5))

    t1 = time.perf_counter()
    pairs = zip(conns, tokens, strict=True)
    await asyncio.gather(*(voter(c, tok, random.Random(i)) for i, (c, tok) in enumerate(pairs)))
    elapsed = time.perf_counter() - t1
    cpu1 = (process_cpu(pids), process_cpu([os.getpid()]))
    for c in conns:
        c.close()
    return {"acks": acks, "latencies": latencies, "errors": errors, "elapsed": elapsed, "join_s": join_s,
            "server_cpu": cpu1[0] - cpu0[0], "client_cpu": cpu1[1] - cpu0[1]}


def check_db(db: Path, acks: list[tuple[str, int, int, int]]) -> dict:
    """Compare acknowledged votes with the rows in the database."""
    import sqlite3

    con = sqlite3.connect(db)
    token_pid = dict(con.execute("SELECT token, id FROM participant"))
    tid_sid = dict(con.execute("SELECT tid, id FROM statement"))
    rows = {vid: (p, s, v) for vid, p, s, v in con.execute("SELECT id, participant_id, statement_id, value FROM vote")}
    con.close()
    lost = sum(1 for tok, tid, val, vid in acks if rows.get(vid) != (token_pid[tok], tid_sid[tid], val))
    acked_ids = [vid for *_rest, vid in acks]
    return {
        "stored": len(rows),
        "lost": lost,
        "acked_twice": len(acked_ids) - len(set(acked_ids)),
        "unacknowledged": len(set(rows) - set(acked_ids)),
    }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="voting-load-")
    db = args.db or Path(tmp.name) / "bench.db"
    prepare_db(db, args.statements)
    port = free_port()
    proc = start_server(db, port, args)
    try:
        result = asyncio.run(run_load(port, args, proc))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    check = check_db(db, result["acks"])
    lat = sorted(result["latencies"])
    acked = len(result["acks"])
    kind = "granian (wsgi)" if args.server == "granian" else f"gunicorn ({args.worker_class})"
    print(f"server: {kind} {args.workers} workers x {args.threads} threads, SQLite WAL "
          f"synchronous={args.synchronous}; rate limits off; {args.statements} statements")
    print(f"load:   {args.voters} voters, think {args.think_ms:g} ms, {args.seconds:g} s; "
          f"joins: {args.voters} in {result['join_s'] * 1000:.0f} ms; cores: {os.cpu_count()}")
    print(f"votes acknowledged: {acked}  ({acked / result['elapsed']:.0f} votes/s)")
    print(f"latency ms: p50 {percentile(lat, 0.50) * 1000:.1f}  p90 {percentile(lat, 0.90) * 1000:.1f}  "
          f"p99 {percentile(lat, 0.99) * 1000:.1f}  max {(lat[-1] if lat else 0) * 1000:.1f}")
    print(f"errors: {result['errors'] or 'none'}")
    print(f"database: {check['stored']} rows; lost {check['lost']}; acknowledged twice {check['acked_twice']}; "
          f"stored but unacknowledged {check['unacknowledged']}")
    per_vote = {k: result[k] / max(acked, 1) * 1000 for k in ("server_cpu", "client_cpu")}
    capacity = os.cpu_count() * 1000 / (per_vote["server_cpu"] + per_vote["client_cpu"])
    print(f"CPU per vote: server {per_vote['server_cpu']:.2f} ms, load generator {per_vote['client_cpu']:.2f} ms "
          f"-> {capacity:.0f} votes/s if this run had had all {os.cpu_count()} cores to itself")
    tmp.cleanup()
    return 1 if check["lost"] or check["acked_twice"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
