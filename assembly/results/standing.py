""""Where do I stand?": one participant's place in a stored clustering run.

Read from the newest stored run (its projections, groups and per-group statement figures)
and the participant's own latest votes; nothing is clustered on the request path. The
statements where they differ most from their group are those where the share of the group
voting as they did is smallest, among statements the group has really voted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assembly.models import AGREE, DISAGREE

MIN_GROUP_VOTES = 3  # below this a group's share on a statement says too little to compare with
MAX_DIFFERENCES = 3


@dataclass
class Difference:
    tid: int
    text: str
    mine: int  # AGREE, DISAGREE or PASS
    group_share: float  # share of the group that voted as I did


@dataclass
class Standing:
    """`group` is None when the run did not group this participant (too few votes) or groups are hidden."""

    placed: bool  # on the map
    group: int | None
    differences: list[Difference] = field(default_factory=list)


def where_i_stand(result: dict[str, Any], pid: int, my_votes: dict[int, int], texts: dict[int, str]) -> Standing:
    """This participant's standing in `result` (a run's result, already cut by the disclosure rule)."""
    key = str(pid)
    placed = key in result["projections"]
    group = result["participants"].get(key)
    if group is None:
        return Standing(placed=placed, group=None)
    differences = []
    for tid, mine in my_votes.items():
        stats = result["statements"].get(str(tid), {}).get("repness", {}).get(str(group))
        if stats is None or tid not in texts or mine not in (AGREE, DISAGREE):
            continue
        seen = float(stats.get("ns", 0))
        if seen < MIN_GROUP_VOTES:
            continue
        share = float(stats["na"] if mine == AGREE else stats["nd"]) / seen
        differences.append(Difference(tid, texts[tid], mine, share))
    differences.sort(key=lambda d: (d.group_share, d.tid))
    unlike = [d for d in differences if d.group_share < 0.5]  # most of the group voted otherwise
    return Standing(placed=placed, group=group, differences=unlike[:MAX_DIFFERENCES])
