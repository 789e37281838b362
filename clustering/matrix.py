"""The sparse participants x statements vote matrix: latest vote per pair, as COO arrays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class VoteMatrix:
    """Latest votes as COO triplets (row, col, value) with the ids that rows and columns stand for.

    Values follow the Polis export convention: +1 agree, -1 disagree, 0 pass; a missing
    pair means unseen. `moderated_out` and `meta` hold statement tids; Polis zeroes both
    out of the PCA (see docs/clustering.md).
    """

    rows: np.ndarray  # (nnz,) int64 index into participant_ids
    cols: np.ndarray  # (nnz,) int64 index into tids
    values: np.ndarray  # (nnz,) int8 in {-1, 0, 1}
    participant_ids: np.ndarray  # (n,) participant ids, any hashable ints
    tids: np.ndarray  # (m,) statement ids
    moderated_out: frozenset[int] = field(default_factory=frozenset)
    meta: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.cols = np.asarray(self.cols, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.int8)
        self.participant_ids = np.asarray(self.participant_ids)
        self.tids = np.asarray(self.tids)
        self.moderated_out = frozenset(int(t) for t in self.moderated_out)
        self.meta = frozenset(int(t) for t in self.meta)
        n, m = len(self.participant_ids), len(self.tids)
        if not (self.rows.shape == self.cols.shape == self.values.shape) or self.rows.ndim != 1:
            raise ValueError(
                f"rows, cols and values must be 1-D and equally long, got {self.rows.shape}, "
                f"{self.cols.shape}, {self.values.shape}"
            )
        if len(self.rows):
            if self.rows.min() < 0 or self.rows.max() >= n:
                raise ValueError(f"row index out of range 0..{n - 1}: {self.rows.min()}..{self.rows.max()}")
            if self.cols.min() < 0 or self.cols.max() >= m:
                raise ValueError(f"column index out of range 0..{m - 1}: {self.cols.min()}..{self.cols.max()}")
            bad = ~np.isin(self.values, (-1, 0, 1))
            if bad.any():
                raise ValueError(f"vote values must be -1, 0 or 1, got {self.values[bad][0]}")
            keys = self.rows * m + self.cols
            if len(np.unique(keys)) != len(keys):
                raise ValueError("duplicate (participant, statement) pairs: pass latest votes only, see from_events")
        if len(np.unique(self.participant_ids)) != n:
            raise ValueError("participant_ids must be unique")
        if len(np.unique(self.tids)) != m:
            raise ValueError("tids must be unique")

    @property
    def shape(self) -> tuple[int, int]:
        """(participants, statements)."""
        return len(self.participant_ids), len(self.tids)

    @property
    def nnz(self) -> int:
        """Number of (participant, statement) pairs with a vote."""
        return len(self.values)

    def with_moderation(self, moderated_out: Iterable[int] = (), meta: Iterable[int] = ()) -> VoteMatrix:
        """A copy with these statement tids marked moderated-out and meta."""
        return VoteMatrix(self.rows, self.cols, self.values, self.participant_ids, self.tids,
                          frozenset(moderated_out), frozenset(meta))

    @classmethod
    def from_events(
        cls,
        participant_ids: Sequence[int] | np.ndarray,
        tids: Sequence[int] | np.ndarray,
        values: Sequence[int] | np.ndarray,
        order: Sequence[float] | np.ndarray | None = None,
        moderated_out: Iterable[int] = (),
        meta: Iterable[int] = (),
    ) -> VoteMatrix:
        """Keep the latest event per (participant, tid); `order` is a timestamp or sequence number, else list order."""
        pids = np.asarray(participant_ids)
        tids_ev = np.asarray(tids)
        vals = np.asarray(values)
        if not (len(pids) == len(tids_ev) == len(vals)):
            raise ValueError(f"event arrays differ in length: {len(pids)}, {len(tids_ev)}, {len(vals)}")
        seq = np.arange(len(vals)) if order is None else np.asarray(order)
        if len(seq) != len(vals):
            raise ValueError(f"order has {len(seq)} entries for {len(vals)} events")
        uniq_p, rows = np.unique(pids, return_inverse=True)
        uniq_t, cols = np.unique(tids_ev, return_inverse=True)
        m = len(uniq_t)
        keys = rows.astype(np.int64) * m + cols
        # Stable sort by (key, order, position): the last entry of each key run is the latest event;
        # ties in order resolve to the later position in the log.
        idx = np.lexsort((np.arange(len(vals)), seq, keys))
        keys_sorted = keys[idx]
        last = np.ones(len(idx), dtype=bool)
        last[:-1] = keys_sorted[1:] != keys_sorted[:-1]
        keep = idx[last]
        return cls(rows[keep], cols[keep], vals[keep], uniq_p, uniq_t, frozenset(moderated_out), frozenset(meta))

    def vote_counts(self) -> np.ndarray:
        """(n,) votes cast per participant, passes included (Polis's user-vote-counts)."""
        return np.bincount(self.rows, minlength=self.shape[0])
