"""Background clustering runs in its own lower-priority process and gives what the inline path gives."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from assembly.results.process import NICENESS, ClusteringProcess, compute


def planted_args() -> tuple:
    """Two planted groups of 10 over 8 statements, plus one everyone agrees with."""
    pids, tids, values = [], [], []
    for pid in range(20):
        for tid in range(9):
            pids.append(pid)
            tids.append(tid)
            values.append(1 if tid == 8 or (tid < 4) == (pid < 10) else -1)
    empty = np.array([], dtype=np.int64)
    return np.array(pids), np.array(tids), np.array(values, dtype=np.int8), empty, empty, None, "cpu"


@pytest.fixture
def process():
    proc = ClusteringProcess()
    yield proc
    proc.shutdown()


def test_worker_process_gives_the_inline_result_at_lower_priority(process):
    args = planted_args()
    remote, inline = process.run(*args), compute(*args)
    for result in (remote, inline):
        result["method"].pop("timings_s")  # wall-clock seconds differ run to run
    assert remote == inline
    assert sorted(remote["group_sizes"]) == [10, 10]
    (child,) = multiprocessing.active_children()
    assert child.pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)


def test_a_dead_worker_fails_one_run_and_is_replaced(process):
    args = planted_args()
    process.run(*args)
    (child,) = multiprocessing.active_children()
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    with pytest.raises(BrokenProcessPool):
        process.run(*args)
    assert sorted(process.run(*args)["group_sizes"]) == [10, 10]


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie nobody has reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


PARENT_SCRIPT = """
import multiprocessing, sys
from tests.test_clustering_process import planted_args
from assembly.results.process import ClusteringProcess

if __name__ == "__main__":
    proc = ClusteringProcess()
    proc.run(*planted_args())
    (child,) = multiprocessing.active_children()
    print(child.pid, flush=True)
    sys.stdin.read()  # wait here until killed
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
def test_the_clustering_process_exits_when_its_parent_is_killed(tmp_path):
    """A web worker killed with SIGKILL runs no finalizer; its clustering process must not outlive it."""
    import subprocess
    import sys
    import time

    from tests.test_concurrency import ROOT

    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        child_pid = int(parent.stdout.readline())
        assert running(child_pid)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 30
        while running(child_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(child_pid), "the clustering process outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
