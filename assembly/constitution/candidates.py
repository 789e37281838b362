"""Which statements every opinion group supports: group-informed consensus with an adaptive threshold.

Pure computation on public ids (Polis `pid`, `tid`), no Flask and no database, so every figure
can be recomputed from an export's votes.csv. The reasoning behind the rule is in docs/constitution.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

AGREE, PASS, DISAGREE = 1, 0, -1

# Reasons a statement does not become a principle (stable codes used in the export).
MODERATED_OUT = "moderated_out"
TOO_FEW_VOTES = "too_few_votes"
DIVISIVE = "divisive"
LOW_AGREEMENT = "low_agreement"
REASONS = (MODERATED_OUT, TOO_FEW_VOTES, DIVISIVE, LOW_AGREEMENT)


@dataclass(frozen=True)
class ConsensusConfig:
    """The candidate rule's parameters; the defaults are argued for in docs/constitution.md."""

    tau: float = 0.7  # per-group agreement a consensus needs "on average": GIC >= tau ** k
    floor: float = 0.6  # every group's smoothed agree share must reach this (no group merely tolerates it)
    min_vote_fraction: float = 0.05  # a statement seen by fewer than 1 in 20 voters does not speak for them
    min_votes_floor: int = 10  # ... but never fewer than this many votes in total (small assemblies)
    min_group_votes_floor: int = 3  # and at least this many (and 1 in 20) of each group's members

    def __post_init__(self) -> None:
        for name in ("tau", "floor", "min_vote_fraction"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.floor < 0.5:
            raise ValueError(f"floor must be at least 0.5 (a group majority), got {self.floor!r}")
        if self.min_votes_floor < 1 or self.min_group_votes_floor < 1:
            raise ValueError("vote minimums must be at least 1")


@dataclass(frozen=True)
class StatementIn:
    tid: int
    text: str
    moderation: str  # accepted | rejected | pending
    is_meta: bool = False


@dataclass
class Counts:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passed

    def add(self, value: int) -> None:
        if value == AGREE:
            self.agree += 1
        elif value == DISAGREE:
            self.disagree += 1
        elif value == PASS:
            self.passed += 1
        else:
            raise ValueError(f"a vote is 1, 0 or -1, got {value!r}")


@dataclass
class StatementStats:
    """Everything the export says about one statement, all derived from the latest votes."""

    tid: int
    text: str
    moderation: str
    total: Counts
    groups: dict[int, Counts]
    gic: float
    decision: str = ""  # "candidate" or one of REASONS
    detail: str = ""
    supporting_groups: list[int] = field(default_factory=list)
    rejecting_groups: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    """The thresholds as applied to this assembly (k groups, n voters)."""

    k: int
    gic_threshold: float
    min_votes: int
    min_group_votes: dict[int, int]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["min_group_votes"] = {str(g): n for g, n in self.min_group_votes.items()}
        return out


def smoothed_share(c: Counts) -> float:
    """(agree + 1) / (seen + 2): Polis's per-group factor of group-informed consensus."""
    return (c.agree + 1) / (c.seen + 2)


def gic(groups: dict[int, Counts]) -> float:
    """Group-informed consensus: product over groups (ascending id) of (agree_g + 1) / (seen_g + 2)."""
    value = 1.0
    for g in sorted(groups):
        value *= smoothed_share(groups[g])
    return value


def thresholds(config: ConsensusConfig, n_voters: int, group_sizes: dict[int, int]) -> Thresholds:
    """Adapt the rule to the number of groups (tau ** k) and to the assembly and group sizes."""
    k = len(group_sizes)
    return Thresholds(
        k=k,
        gic_threshold=config.tau**k,
        min_votes=max(config.min_votes_floor, math.ceil(config.min_vote_fraction * n_voters)),
        min_group_votes={
            g: max(config.min_group_votes_floor, math.ceil(config.min_vote_fraction * size))
            for g, size in sorted(group_sizes.items())
        },
    )


def count_votes(
    statements: list[StatementIn], votes: dict[tuple[int, int], int], groups: dict[int, int]
) -> dict[int, tuple[Counts, dict[int, Counts]]]:
    """{tid: (counts over every voter, {group: counts over that group's members})}."""
    group_ids = sorted(set(groups.values()))
    out = {s.tid: (Counts(), {g: Counts() for g in group_ids}) for s in statements}
    for (pid, tid), value in votes.items():
        if tid not in out:
            raise ValueError(f"a vote on statement {tid}, which is not in the assembly")
        total, per_group = out[tid]
        total.add(value)
        if pid in groups:
            per_group[groups[pid]].add(value)
    return out


def _group_list(ids: list[int], labels: dict[int, str]) -> str:
    return ", ".join(labels.get(g, str(g)) for g in ids)


def assess(
    statements: list[StatementIn],
    votes: dict[tuple[int, int], int],
    groups: dict[int, int],
    config: ConsensusConfig,
    labels: dict[int, str] | None = None,
) -> tuple[list[StatementStats], Thresholds]:
    """Decide for every statement: a candidate principle, or excluded with the first reason that applies."""
    if not groups:
        raise ValueError("no opinion groups: a constitution needs at least one group of participants")
    labels = labels or {}
    sizes: dict[int, int] = {}
    for g in groups.values():
        sizes[g] = sizes.get(g, 0) + 1
    n_voters = len({pid for pid, _tid in votes})
    th = thresholds(config, n_voters, sizes)
    counted = count_votes(statements, votes, groups)
    out = []
    for s in sorted(statements, key=lambda s: s.tid):
        total, per_group = counted[s.tid]
        st = StatementStats(s.tid, s.text, s.moderation, total, per_group, gic(per_group))
        shares = {g: smoothed_share(c) for g, c in per_group.items()}
        st.supporting_groups = [g for g in sorted(per_group) if shares[g] >= config.floor]
        # A group rejects a statement when more of its members disagree than agree.
        st.rejecting_groups = [g for g in sorted(per_group) if per_group[g].disagree > per_group[g].agree]
        thin = [g for g in sorted(per_group) if per_group[g].seen < th.min_group_votes[g]]
        if s.moderation != "accepted" or s.is_meta:
            st.decision = MODERATED_OUT
            st.detail = "meta statement" if s.is_meta and s.moderation == "accepted" else f"moderation: {s.moderation}"
        elif total.seen < th.min_votes or thin:
            st.decision = TOO_FEW_VOTES
            st.detail = f"{total.seen} votes (needs {th.min_votes})"
            if thin:
                st.detail += "; too few votes in group " + _group_list(thin, labels)
        elif st.rejecting_groups and st.supporting_groups:
            st.decision = DIVISIVE
            st.detail = (f"supported by group {_group_list(st.supporting_groups, labels)}, "
                         f"rejected by group {_group_list(st.rejecting_groups, labels)}")
        elif st.gic < th.gic_threshold or len(st.supporting_groups) < len(per_group):
            st.decision = LOW_AGREEMENT
            weak = [g for g in sorted(per_group) if shares[g] < config.floor]
            st.detail = f"GIC {st.gic:.3f} (needs {th.gic_threshold:.3f})"
            if weak:
                st.detail += f"; below {config.floor:.2f} in group " + _group_list(weak, labels)
        else:
            st.decision = "candidate"
        out.append(st)
    return out, th
