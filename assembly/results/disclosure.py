"""When opinion groups may be shown: only once every group has enough participants.

With two participants a "group" is one person, and "67% of this group agreed" is that person's
votes. Polis waits for enough people before it shows groups; here the rule is the setting
RESULTS_MIN_GROUP_SIZE, applied in one place for the results page, the JSON API and the
Polis export, so no surface reveals what another hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class GroupDisclosure:
    """Whether a run's groups may be shown, and why not."""

    shown: bool
    min_size: int
    smallest: int  # participants in the smallest group (0 when there are no groups)


def disclosure(result: dict[str, Any], min_size: int | None = None) -> GroupDisclosure:
    """Groups are shown when there is at least one and each has `min_size` participants or more."""
    if min_size is None:
        min_size = int(current_app.config["RESULTS_MIN_GROUP_SIZE"])
    sizes = [int(s) for s in result.get("group_sizes") or []]
    smallest = min(sizes) if sizes else 0
    return GroupDisclosure(shown=bool(sizes) and smallest >= min_size, min_size=min_size, smallest=smallest)


def public_result(result: dict[str, Any], rule: GroupDisclosure) -> dict[str, Any]:
    """The run's result without anything per group when groups may not be shown yet.

    Kept: the map's positions (anonymous), whole-assembly statement counts and consensus.
    Dropped: who is in which group, group sizes, per-group statement statistics and repness.
    """
    if rule.shown:
        return result
    statements = {tid: {k: v for k, v in st.items() if k != "repness"} for tid, st in result["statements"].items()}
    out = {**result, "statements": statements, "participants": {p: None for p in result["participants"]},
           "group_sizes": [], "top_repness": {}}
    out["groups_hidden"] = {"min_group_size": rule.min_size, "smallest_group": rule.smallest}
    return out


def shown_groups_by_pid(result: dict[str, Any] | None) -> dict[int, int] | None:
    """{pid: group} for exports, or None (no group columns) when groups may not be shown."""
    if result is None or not disclosure(result).shown:
        return None
    return {int(pid): g for pid, g in result["participants"].items() if g is not None}
