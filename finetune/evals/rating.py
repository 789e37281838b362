"""Human rating: participants' blind A / B / tie choices between the base's and the adapter's answers.

Pure math on plain records (no Flask, no database), so the report page, the JSON API, the CLI and
the dataset builder read the same numbers:

- `blind_order` decides, from a seed, which answer a participant sees as "A" for a prompt: random
  across participants and prompts, the same on every visit.
- `win_rates` is the adapter's win rate against the base (a win 1, a tie 1/2, a loss 0) overall
  and per opinion group, with a seeded bootstrap 95% interval that resamples *participants*
  (one person's choices are not independent of each other), reusing `metrics.bootstrap`.
- `preference_pairs` turns rated prompts into prompt/chosen/rejected records for the next
  training round under the bridging rule: an answer is chosen only when it is preferred (more
  wins than losses) in every opinion group that rated the prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from finetune.evals.metrics import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED, bootstrap, resamples

ADAPTER, BASE, TIE = "adapter", "base", "tie"
OUTCOMES = (ADAPTER, BASE, TIE)
SCORE = {ADAPTER: 1.0, TIE: 0.5, BASE: 0.0}
KIND = "human_rating"


@dataclass(frozen=True)
class Choice:
    """One participant's choice on one prompt; `group` is their opinion group's label (None: not grouped)."""

    participant: int
    prompt: int
    outcome: str
    group: str | None = None

    def __post_init__(self) -> None:
        assert self.outcome in OUTCOMES, f"outcome must be one of {OUTCOMES}, got {self.outcome!r}"


@dataclass
class RatedPrompt:
    """A prompt of a rating round with both answers and every choice made on it."""

    round_id: int
    prompt_id: int
    prompt: str
    base_answer: str
    adapter_answer: str
    choices: list[Choice] = field(default_factory=list)
    heldout_tid: int | None = None  # the held-out statement it was asked from, if any
    adapter_id: int | None = None


def blind_order(seed: int, participant: int, prompt: int) -> bool:
    """True when the adapter's answer is shown as "A" to this participant for this prompt.

    A hash of (seed, participant, prompt): about half of all (participant, prompt) pairs each way,
    independent of the order people arrive in, and the same on every page view (nothing to keep in
    a cookie). The glue still stores the order with each choice, as the record of what was shown.
    """
    digest = hashlib.sha256(f"{seed}:{participant}:{prompt}".encode()).digest()
    return digest[0] & 1 == 1


def _counts(choices: Iterable[Choice]) -> dict[str, int]:
    out = dict.fromkeys(OUTCOMES, 0)
    for c in choices:
        out[c.outcome] += 1
    return out


def win_rate_of(choices: Sequence[Choice], samples: int = BOOTSTRAP_SAMPLES,
                seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """Counts, the point win rate (wins + ties/2) / n and its bootstrap interval over participants."""
    counts = _counts(choices)
    n = len(choices)
    people = sorted({c.participant for c in choices})
    index = {p: i for i, p in enumerate(people)}
    score = np.zeros(len(people))  # (P,) summed scores per participant
    count = np.zeros(len(people))  # (P,) choices per participant
    for c in choices:
        score[index[c.participant]] += SCORE[c.outcome]
        count[index[c.participant]] += 1

    def rate(idx: np.ndarray) -> float:
        total = count[idx].sum()
        return float(score[idx].sum() / total) if total else float("nan")

    interval = bootstrap(rate, len(people), resamples(len(people), samples, seed)).to_dict() if people else \
        {"value": None, "low": None, "high": None}
    return {"n": n, "participants": len(people), **counts, "win_rate": interval}


def win_rates(choices: Sequence[Choice], samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED
              ) -> dict[str, Any]:
    """{"all": ..., "groups": {label: ...}, "ungrouped": ..., "worst_group": label | None}.

    Each entry is `win_rate_of` its choices. The worst group is the one with the lowest point win
    rate: the adapter must be preferred by every group, not by the largest one only.
    """
    groups: dict[str, list[Choice]] = {}
    for c in choices:
        if c.group is not None:
            groups.setdefault(c.group, []).append(c)
    per_group = {g: win_rate_of(cs, samples, seed) for g, cs in sorted(groups.items())}
    rated = [(v["win_rate"]["value"], g) for g, v in per_group.items() if v["win_rate"]["value"] is not None]
    return {"all": win_rate_of(choices, samples, seed), "groups": per_group,
            "ungrouped": win_rate_of([c for c in choices if c.group is None], samples, seed),
            "worst_group": min(rated)[1] if rated else None}


def preferred(choices: Sequence[Choice]) -> tuple[str | None, dict[str, dict[str, int]]]:
    """(ADAPTER | BASE | None, counts per group) for one prompt under the bridging rule.

    A side is preferred when, in every opinion group with a choice on the prompt, it has more wins
    than the other side (ties count for neither). Participants outside any group are counted
    (under "ungrouped") but cannot make or break the rule; with no group at all there is no pair.
    """
    counts: dict[str, dict[str, int]] = {}
    for c in choices:
        counts.setdefault(c.group if c.group is not None else "ungrouped", dict.fromkeys(OUTCOMES, 0))[c.outcome] += 1
    rated = [v for g, v in counts.items() if g != "ungrouped"]
    if not rated:
        return None, counts
    if all(v[ADAPTER] > v[BASE] for v in rated):
        return ADAPTER, counts
    if all(v[BASE] > v[ADAPTER] for v in rated):
        return BASE, counts
    return None, counts


def preference_pairs(prompts: Sequence[RatedPrompt]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Preference records (trl's prompt/chosen/rejected, kind "human_rating") and a summary per round.

    Left out, and counted in the summary: prompts asked from a held-out statement (training on them
    would leak the evals' split), prompts nobody in a group rated or where the groups disagree
    ("split"), and prompts whose two answers are the same text or empty (nothing to prefer).
    """
    pairs: list[dict[str, Any]] = []
    rounds: dict[int, dict[str, Any]] = {}
    for p in prompts:
        s = rounds.setdefault(p.round_id, {"round_id": p.round_id, "prompts": 0, "rated": 0, "choices": 0,
                                           "pairs": 0, "held_out": 0, "split": 0, "same_answers": 0})
        s["prompts"] += 1
        s["choices"] += len(p.choices)
        if not p.choices:
            continue
        s["rated"] += 1
        side, counts = preferred(p.choices)
        if p.heldout_tid is not None:
            s["held_out"] += 1
            continue
        if side is None:
            s["split"] += 1
            continue
        a, b = p.adapter_answer.strip(), p.base_answer.strip()
        if not a or not b or a == b:
            s["same_answers"] += 1
            continue
        chosen, rejected = (a, b) if side == ADAPTER else (b, a)
        s["pairs"] += 1
        pairs.append({"prompt": p.prompt, "chosen": chosen, "rejected": rejected, "kind": KIND,
                      "source": {"rating_round_id": p.round_id, "rating_prompt_id": p.prompt_id,
                                 "adapter_id": p.adapter_id, "preferred": side, "n_choices": len(p.choices),
                                 "counts": counts}})
    return pairs, {"rounds": [rounds[k] for k in sorted(rounds)], "pairs": len(pairs)}
