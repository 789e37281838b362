"""Clustering in a separate, lower-priority process, so reclustering never stalls a vote.

Why: the background recluster used to run in a thread of the web worker that
serves votes. Its first run imports torch (about 2 s of CPU holding the GIL)
and its Python parts hold the GIL too, so votes in that worker waited behind
it. In its own process the GIL is not shared, and at `nice` 10 the kernel gives
the web workers the CPU first. The process is started on first use, stays up
(torch is imported once) and is replaced if it dies.

This module imports neither Flask nor the database: the child process only
needs `compute`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

NICENESS = 10
PARENT_CHECK_S = 1.0


def compute(
    pids: np.ndarray,
    tids: np.ndarray,
    values: np.ndarray,
    rejected_tids: np.ndarray,
    meta_tids: np.ndarray,
    previous: dict[str, Any] | None,
    device: str,
    umap_max: int = 0,
) -> dict[str, Any]:
    """Cluster latest votes into opinion groups; the result as a plain, JSON-able dict.

    With at most `umap_max` participants (0: never) the result also carries the UMAP map and
    both maps' trustworthiness (clustering.umap_view), computed here, after the groups.
    """
    from clustering import ClusterConfig, VoteMatrix, cluster

    matrix = VoteMatrix.from_events(pids, tids, values, moderated_out=rejected_tids.tolist(), meta=meta_tids.tolist())
    umap = 0 < matrix.shape[0] <= umap_max
    return cluster(matrix, ClusterConfig(device=device, previous=previous, umap=umap)).to_dict()


def compute_history(pids, tids, values, times, rejected_tids, meta_tids, device: str,
                    umap_max: int = 0) -> dict[str, Any]:
    """Replay a time-stamped vote log as Polis would have updated on it (clustering.replay); the last result.

    The UMAP map (as in `compute`) is made once, for the final update only.
    """
    from clustering import VoteMatrix
    from clustering.replay import history_config, replay
    from clustering.umap_view import with_umap_view

    config = history_config(device=device)
    result = replay(pids, tids, values, times, rejected_tids.tolist(), meta_tids.tolist(), config).result
    matrix = VoteMatrix.from_events(pids, tids, values, times, moderated_out=rejected_tids.tolist(),
                                    meta=meta_tids.tolist())
    if 0 < matrix.shape[0] <= umap_max:
        result = with_umap_view(result, matrix, config.seed)
    return result.to_dict()


def _watch_parent(parent_pid: int, interval: float = PARENT_CHECK_S) -> None:
    """Exit as soon as `parent_pid` is no longer this process's parent.

    Why: a web worker killed with `kill -9` (or by the OOM killer) runs no finalizer, so its
    clustering process would live on as an orphan, reparented to init, holding torch's memory.
    A reparented process sees a new `getppid()`; checking it works on every POSIX system, unlike
    Linux's PR_SET_PDEATHSIG, which fires when the parent *thread* that spawned the child ends.
    """
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(0)  # no cleanup to run: the parent that wanted the result is gone


def _start_child(parent_pid: int) -> None:
    """Pool initializer: lower this process's priority and make it follow its parent's death."""
    os.nice(NICENESS)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


class ClusteringProcess:
    """One long-lived worker process for `compute`, started on first use."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, *args: Any) -> dict[str, Any]:
        """`compute(*args)` in the worker process; waits for it without holding the GIL."""
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the web worker has threads, and a forked child would inherit their locks.
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child, initargs=(os.getpid(),),
                )
                # Stop it when this process exits. A server's worker that is itself a multiprocessing
                # child (granian's are) joins its children on exit without running atexit hooks, and
                # would wait forever on an idle pool; multiprocessing's own finalizers do run there.
                # Priority above the queues' own (10), which would otherwise close the pipe first.
                multiprocessing.util.Finalize(None, self._pool.shutdown, kwargs={"cancel_futures": True},
                                              exitpriority=20)
            pool = self._pool
        try:
            return pool.submit(compute, *args).result()
        except BrokenProcessPool:
            # The process died (e.g. out of memory): this run fails visibly, the next one gets a new process.
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            raise

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
