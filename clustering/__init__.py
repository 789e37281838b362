"""Polis-faithful opinion groups from a sparse vote matrix; pure torch, no Flask, no database.

Usage: ``cluster(VoteMatrix.from_events(pids, tids, values, order), ClusterConfig()).to_dict()``.
Torch is imported inside the functions that need it, so importing this package stays cheap.
"""

from clustering.config import ClusterConfig
from clustering.matrix import VoteMatrix
from clustering.pipeline import cluster
from clustering.result import ClusterResult

__all__ = ["ClusterConfig", "ClusterResult", "VoteMatrix", "cluster"]
