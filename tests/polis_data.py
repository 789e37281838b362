"""Read a Polis open-data export folder into a VoteMatrix: a test and benchmark helper, not part of clustering/."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from clustering.matrix import VoteMatrix


def load_votes(folder: Path) -> VoteMatrix:
    """votes.csv (every event) -> latest vote per pair; comments.csv moderated = -1 -> moderated out."""
    folder = Path(folder)
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    pids = np.array([int(r["voter-id"]) for r in rows])
    tids = np.array([int(r["comment-id"]) for r in rows])
    vals = np.array([int(r["vote"]) for r in rows])
    ts = np.array([int(r["timestamp"]) for r in rows])
    mod_out = set()
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["moderated"].strip() == "-1":
                mod_out.add(int(r["comment-id"]))
    present = set(tids.tolist())
    return VoteMatrix.from_events(pids, tids, vals, ts, moderated_out=mod_out & present)


def load_polis_groups(folder: Path) -> dict[int, int]:
    """participants-votes.csv: participant id -> Polis's own group-id (clustered participants only)."""
    out = {}
    with open(Path(folder) / "participants-votes.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["group-id"].strip() != "":
                out[int(r["participant"])] = int(r["group-id"])
    return out


def agreement(ours: dict, theirs: dict[int, int]) -> float:
    """Share of Polis-clustered participants in the matched group, after Hungarian label matching."""
    from scipy.optimize import linear_sum_assignment

    if not theirs:
        return float("nan")
    ka = max((g for g in ours.values() if g is not None), default=-1) + 1
    kb = max(theirs.values()) + 1
    table = np.zeros((max(ka, 1), kb), dtype=np.int64)
    for p, g in theirs.items():
        mine = ours.get(p)
        if mine is not None:
            table[mine, g] += 1
    r, c = linear_sum_assignment(-table)
    return float(table[r, c].sum()) / len(theirs)


def reddwarf_groups(vm: VoteMatrix, seed: int = 0):
    """Run red-dwarf (dev dependency) on the same latest votes: (its result, participant id -> group)."""
    from reddwarf.implementations.polis import run_pipeline

    votes = [
        {"participant_id": int(vm.participant_ids[r]), "statement_id": int(vm.tids[c]), "vote": int(v), "modified": 0}
        for r, c, v in zip(vm.rows, vm.cols, vm.values, strict=True)
    ]
    res = run_pipeline(votes=votes, mod_out_statement_ids=sorted(vm.moderated_out), random_state=seed)
    col = res.participants_df["cluster_id"]
    return res, {int(p): (None if col.isna()[p] else int(col[p])) for p in col.index}


def load_log(folder: Path) -> dict:
    """votes.csv as the raw, time-stamped event log (for clustering.replay) and the moderated-out tids."""
    folder = Path(folder)
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    mod_out = set()
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["moderated"].strip() == "-1":
                mod_out.add(int(r["comment-id"]))
    return {"participant_ids": np.array([int(r["voter-id"]) for r in rows]),
            "tids": np.array([int(r["comment-id"]) for r in rows]),
            "values": np.array([int(r["vote"]) for r in rows]),
            "times": np.array([int(r["timestamp"]) for r in rows]),
            "moderated_out": mod_out}
