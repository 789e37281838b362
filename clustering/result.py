"""ClusterResult: arrays inside, a JSON-able dict outside (to_dict / from_dict round-trip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Per-statement fields, each an (m,) array; GROUP_FIELDS are (k, m), one row per group.
STATEMENT_FIELDS = (
    "n_agree", "n_disagree", "n_pass", "n_seen", "pass_rate",
    "consensus_agree", "consensus_disagree", "consensus_agree_z", "consensus_disagree_z",
    "gic_agree", "gic_disagree", "extremity", "priority", "x", "y",
)
GROUP_FIELDS = (
    "na", "nd", "ns", "pa", "pa_out", "pd", "pd_out", "pat", "pdt", "ra", "rd", "rat", "rdt",
    "p_agree", "p_disagree",
)
COUNT_FIELDS = {"n_agree", "n_disagree", "n_pass", "n_seen", "na", "nd", "ns"}


def _id(key: str) -> int | str:
    """JSON object keys are strings; give ints back where they were ints."""
    return int(key) if key.lstrip("-").isdigit() else key


def _num(name: str, value: float) -> int | float:
    return int(value) if name in COUNT_FIELDS else float(value)


@dataclass
class ClusterResult:
    """Opinion groups and statement statistics of one clustering run."""

    participant_ids: np.ndarray  # (n,)
    groups: np.ndarray  # (n,) int64 group id 0..k-1, -1 where not clustered
    projections: np.ndarray  # (n, 2) Polis PCA projection
    tids: np.ndarray  # (m,)
    moderated_out: np.ndarray  # (m,) bool
    meta: np.ndarray  # (m,) bool
    statements: dict[str, np.ndarray]  # STATEMENT_FIELDS -> (m,)
    group_stats: dict[str, np.ndarray]  # GROUP_FIELDS -> (k, m)
    top_repness: dict[int, list[dict[str, Any]]]
    consensus: dict[str, list[dict[str, Any]]]
    method: dict[str, Any]
    umap: np.ndarray | None = None  # (n, 2) optional map view
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """Number of opinion groups."""
        return int(self.method.get("k", 0))

    @property
    def group_sizes(self) -> list[int]:
        """Members per group id 0..k-1."""
        return np.bincount(self.groups[self.groups >= 0], minlength=self.k).tolist()

    def group_of(self) -> dict[Any, int | None]:
        """participant id -> group id, None where not clustered."""
        return {_py(p): (int(g) if g >= 0 else None) for p, g in zip(self.participant_ids, self.groups, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: participants, projections, per-statement stats, top repness, method."""
        statements = {}
        for j, tid in enumerate(self.tids):
            entry: dict[str, Any] = {name: _num(name, self.statements[name][j]) for name in STATEMENT_FIELDS}
            entry["moderated_out"] = bool(self.moderated_out[j])
            entry["meta"] = bool(self.meta[j])
            entry["repness"] = {
                str(g): {name: _num(name, self.group_stats[name][g, j]) for name in GROUP_FIELDS}
                for g in range(self.k)
            }
            statements[str(_py(tid))] = entry
        out = {
            "participants": {str(p): g for p, g in self.group_of().items()},
            "group_sizes": self.group_sizes,
            "projections": _xy(self.participant_ids, self.projections),
            "statements": statements,
            "top_repness": {str(g): v for g, v in self.top_repness.items()},
            "consensus": self.consensus,
            "method": self.method,
        }
        if self.umap is not None:
            out["umap"] = _xy(self.participant_ids, self.umap)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClusterResult:
        """Rebuild a result from to_dict() output (for warm starts from a stored run)."""
        missing = {"participants", "projections", "statements", "top_repness", "consensus", "method"} - set(d)
        if missing:
            raise ValueError(f"not a ClusterResult dict, missing keys: {sorted(missing)}")
        pkeys = list(d["participants"])
        k = int(d["method"].get("k", 0))
        skeys = list(d["statements"])
        st = d["statements"]
        umap = d.get("umap")
        return cls(
            participant_ids=np.array([_id(p) for p in pkeys], dtype=object),
            groups=np.array([-1 if (g := d["participants"][p]) is None else g for p in pkeys], dtype=np.int64),
            projections=np.array([d["projections"][p] for p in pkeys], dtype=np.float64).reshape(-1, 2),
            tids=np.array([_id(t) for t in skeys], dtype=object),
            moderated_out=np.array([st[t]["moderated_out"] for t in skeys], dtype=bool),
            meta=np.array([st[t]["meta"] for t in skeys], dtype=bool),
            statements={n: np.array([st[t][n] for t in skeys], dtype=np.float64) for n in STATEMENT_FIELDS},
            group_stats={
                n: np.array([[st[t]["repness"][str(g)][n] for t in skeys] for g in range(k)],
                            dtype=np.float64).reshape(k, len(skeys))
                for n in GROUP_FIELDS
            },
            top_repness={int(g): v for g, v in d["top_repness"].items()},
            consensus=d["consensus"],
            method=d["method"],
            umap=None if umap is None else np.array([umap[p] for p in pkeys], dtype=np.float64).reshape(-1, 2),
        )


def _py(x: Any) -> Any:
    """numpy scalar -> Python scalar, so ids print and serialise plainly."""
    return x.item() if isinstance(x, np.generic) else x


def _xy(ids: np.ndarray, xy: np.ndarray) -> dict[str, list[float]]:
    """participant id -> [x, y] for JSON."""
    return {str(_py(p)): [float(x), float(y)] for p, (x, y) in zip(ids, xy, strict=True)}
