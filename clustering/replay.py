"""Replay a timestamped vote log as a live Polis would have seen it, recomputing at its update points.

Polis's groups depend on the conversation's history, not only on its final votes: a participant
enters the clustering once they have voted on min(7, statements at that time) and stays in for
good (conversation.clj `:in-conv`), and the k smoother switches k only after a new k has won
`group-k-buffer` updates in a row. A final-state run sees neither. `replay()` walks the log in
time order and calls `cluster()` at each update point, warm-started from the previous update
(PCA components, base and group centres, labels, in-conv set and k-smoother state all travel in
the previous result's `method`), so each step is a few Lloyd/power iterations, not a cold start.

The update schedule (`update_points`) and why it is what it is: see docs/clustering.md, "Replay".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from clustering.config import ClusterConfig
from clustering.matrix import VoteMatrix
from clustering.pipeline import cluster
from clustering.result import ClusterResult


@dataclass
class ReplayStep:
    """One update of the replay: how much of the log it saw and what it chose."""

    n_events: int  # events of the log (in time order) seen by this update
    time: float  # timestamp of the newest of them
    k: int
    n_clustered: int


@dataclass
class Replay:
    """The final update's result and the trajectory that led to it."""

    result: ClusterResult
    steps: list[ReplayStep] = field(default_factory=list)
    seconds: float = 0.0


def history_config(**overrides) -> ClusterConfig:
    """The replay's default: the project's defaults with Polis's own silhouette over base clusters.

    The participant-weighted silhouette (the one-shot default) lets a young conversation with few
    base clusters pick k = 5 and the k smoother then hold it (brexit-consensus: 0.41 agreement
    with Polis against 0.94 with Polis's silhouette); over the whole history Polis's rule is the
    one that reproduces its k on every shared conversation but the 26-participant one.
    """
    return ClusterConfig(**({"silhouette": "polis"} | overrides))


def update_points(times: np.ndarray, growth: float = 0.03, gap_ms: float = 600_000) -> np.ndarray:
    """Exclusive ends into the time-sorted log at which to recompute.

    A live Polis recomputes whenever its poller finds new votes: its updates follow the
    activity, and what they see grows roughly geometrically (many updates while a conversation
    is small, few, each adding many votes, once it is large). Replaying every poll would cost
    one run per few votes. Here an update happens once the log has grown by `growth` (a share,
    at least one event) since the last one, moved on to the end of the burst it falls in (the
    next vote more than `gap_ms` later) when that end comes before the next growth step, so an
    update sees a burst whole, as Polis's poller would after it. That is about
    1/growth + log(n growth) / log(1 + growth) updates: ~270 for 50,000 votes. The last event is always one.
    """
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    burst_end = np.append(np.flatnonzero(np.diff(times) > gap_ms) + 1, n)  # sorted exclusive ends
    points, last = [], 0
    while last < n:
        step = max(1, int(np.ceil(growth * last)))
        target = min(n, last + step)
        end = int(burst_end[np.searchsorted(burst_end, target)])  # end of the burst holding the target
        nxt = min(n, target + max(1, int(np.ceil(growth * target))))
        last = end if end <= nxt else target
        points.append(last)
    return np.asarray(points, dtype=np.int64)


def replay(
    participant_ids: Sequence | np.ndarray,
    tids: Sequence | np.ndarray,
    values: Sequence | np.ndarray,
    times: Sequence | np.ndarray,
    moderated_out: Iterable[int] = (),
    meta: Iterable[int] = (),
    config: ClusterConfig | None = None,
    points: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Recompute at each update point of the log (default: `update_points(times)`), warm-started.

    `config` defaults to `history_config()`; its `previous` (if any) is the state to continue from.
    Moderation is applied as it stands at the end (exports do not date moderation). Returns the
    last update's result; its `method` carries the in-conv set and k-smoother state, so a live
    assembly can continue from it.
    """
    import time

    started = time.perf_counter()
    pids, tids_a, vals, ts = (np.asarray(a) for a in (participant_ids, tids, values, times))
    if not (len(pids) == len(tids_a) == len(vals) == len(ts)):
        raise ValueError(f"event arrays differ in length: {len(pids)}, {len(tids_a)}, {len(vals)}, {len(ts)}")
    if len(ts) == 0:
        raise ValueError("nothing to replay: the vote log is empty")
    order = np.argsort(ts, kind="stable")
    pids, tids_a, vals, ts = pids[order], tids_a[order], vals[order], ts[order]
    pts = update_points(ts) if points is None else np.asarray(points, dtype=np.int64)
    if len(pts) == 0 or pts.min() < 1 or pts.max() > len(ts) or np.any(np.diff(pts) <= 0):
        raise ValueError(f"update points must rise strictly within 1..{len(ts)}")
    config = config or history_config()
    mod, met = frozenset(moderated_out), frozenset(meta)
    previous = config.previous
    steps: list[ReplayStep] = []
    result = None
    for i, end in enumerate(pts):
        vm = VoteMatrix.from_events(pids[:end], tids_a[:end], vals[:end], np.arange(end))
        present = set(vm.tids.tolist())
        vm = vm.with_moderation(mod & present, met & present)
        try:
            result = cluster(vm, replace(config, previous=previous))
        except ValueError:
            continue  # too early to cluster anyone (greedy_participants=0): the next point will
        previous = result
        steps.append(ReplayStep(int(end), float(ts[end - 1]), result.k, int(result.method["n_clustered"])))
        if progress is not None:
            progress(i + 1, len(pts))
    if result is None:
        raise ValueError("no update point had anyone to cluster")
    result.method["replay"] = {"updates": len(steps), "events": len(ts),
                               "k_trajectory": [s.k for s in steps]}
    return Replay(result, steps, time.perf_counter() - started)
