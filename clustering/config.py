"""ClusterConfig: every knob of the pipeline in one validated dataclass, Polis defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class ClusterConfig:
    """What `cluster()` should do; defaults reproduce Polis (math/src/polismath/math/conversation.clj)."""

    device: str = "auto"  # "auto" (cuda when available), "cpu" or "cuda" / "cuda:N"
    dtype: str = "float64"  # float64 matches Polis/red-dwarf to 1e-6; float32 halves memory on a GPU
    threads: int = 0  # CPU threads for torch; 0 = 1 below 2M votes (faster there), torch's default above
    seed: int = 0  # random start of the PCA subspace iteration (and UMAP)
    min_votes: int = 7  # a participant is clustered after this many votes (or all statements, if fewer)
    greedy_participants: int = 15  # Polis tops up to this many clustered participants by vote count
    max_base_clusters: int = 100  # Polis base-k
    min_groups: int = 2  # smallest k tried for the opinion groups
    max_groups: int = 5  # largest k tried (Polis caps at 5 and at 2 + base clusters // 12)
    group_restarts: int = 10  # seeded k-means++ starts tried beside Polis's start for the groups
    restart_gain: float = 0.1  # another start must cut weighted inertia by this share to replace Polis's
    silhouette: str = "weighted"  # "weighted" (participants at their base centre) or "polis" (base centres)
    k_margin: float = 0.02  # a larger k must beat the best smaller k's silhouette by this much
    base_iters: int = 100  # Polis base-iters
    group_iters: int = 20  # Polis passes :cluster-iters, which kmeans ignores, so its default 20 applies
    pca_iters: int = 100  # most subspace iterations (Polis pca-iters)
    pca_tol: float = 1e-14  # stop when 1 - |cos| between successive top-2 Ritz vectors is below this
    k_buffer: int = 4  # Polis group-k-buffer: a new k must win this many runs in a row; 1 switches at once
    confidence: float = 0.90  # one-sided; z > 1.2816 for the significance tests
    pick_max: int = 5  # representative statements per group, consensus statements per direction
    umap: bool = False  # also compute a UMAP map view (needs umap-learn); groups still come from PCA
    previous: Any = None  # a ClusterResult or its to_dict(): warm start and stable labels

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"device", "dtype", "silhouette"} and not isinstance(value, str):
                raise TypeError(f"ClusterConfig.{f.name} must be a str, got {value!r}")
            if f.type == "int" and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"ClusterConfig.{f.name} must be an int, got {value!r}")
        if self.device != "auto" and self.device != "cpu" and not self.device.startswith("cuda"):
            raise ValueError(f"ClusterConfig.device must be auto, cpu or cuda[:N], got {self.device!r}")
        if self.silhouette not in {"weighted", "polis"}:
            raise ValueError(f"ClusterConfig.silhouette must be weighted or polis, got {self.silhouette!r}")
        if not 0 <= self.restart_gain < 1 or self.k_margin < 0:
            raise ValueError(f"need 0 <= restart_gain < 1 and k_margin >= 0, got {self.restart_gain}, {self.k_margin}")
        if self.dtype not in {"float64", "float32"}:
            raise ValueError(f"ClusterConfig.dtype must be float64 or float32, got {self.dtype!r}")
        for name in ("min_votes", "group_restarts", "base_iters", "group_iters", "pca_iters", "k_buffer", "pick_max"):
            if getattr(self, name) < 1:
                raise ValueError(f"ClusterConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.threads < 0:
            raise ValueError(f"ClusterConfig.threads must be >= 0, got {self.threads}")
        if self.greedy_participants < 0:
            raise ValueError(f"ClusterConfig.greedy_participants must be >= 0, got {self.greedy_participants}")
        if self.max_base_clusters < 2:
            raise ValueError(f"ClusterConfig.max_base_clusters must be >= 2, got {self.max_base_clusters}")
        if not 2 <= self.min_groups <= self.max_groups:
            raise ValueError(f"need 2 <= min_groups <= max_groups, got {self.min_groups}..{self.max_groups}")
        if self.max_groups > self.max_base_clusters:
            raise ValueError(
                f"max_groups ({self.max_groups}) cannot exceed max_base_clusters ({self.max_base_clusters})")
        if not 0.5 < self.confidence < 1:
            raise ValueError(f"ClusterConfig.confidence must be in (0.5, 1), got {self.confidence}")
        if not self.pca_tol > 0:
            raise ValueError(f"ClusterConfig.pca_tol must be > 0, got {self.pca_tol}")

    def resolved_device(self) -> str:
        """The torch device to run on; "auto" means cuda when present."""
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"ClusterConfig.device={self.device!r} but torch sees no CUDA device")
        return self.device

    def params(self) -> dict[str, Any]:
        """The JSON-able parameters recorded in a result (previous left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "previous"}
