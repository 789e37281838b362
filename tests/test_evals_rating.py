"""Human rating math on worked examples (the one in docs/evals.md): blind order, win rates, the bridging rule."""

from __future__ import annotations

import pytest

from finetune.evals.rating import Choice, RatedPrompt, blind_order, preference_pairs, preferred, win_rates

# Group A: participants 1 and 2; group B: 3 and 4; participant 5 is in no group.
EXAMPLE = [
    Choice(1, 10, "adapter", "A"), Choice(1, 11, "tie", "A"), Choice(2, 10, "adapter", "A"),
    Choice(3, 10, "base", "B"), Choice(3, 11, "adapter", "B"), Choice(4, 10, "base", "B"),
    Choice(5, 10, "adapter", None),
]


def test_blind_order_is_random_across_participants_but_stable_for_each():
    orders = [blind_order(7, p, 1) for p in range(400)]
    assert 150 < sum(orders) < 250  # about half see the adapter first
    assert orders == [blind_order(7, p, 1) for p in range(400)]  # the same on every visit
    assert [blind_order(7, 3, q) for q in range(50)] != [blind_order(7, 3, 0)] * 50  # differs across prompts
    assert [blind_order(8, p, 1) for p in range(400)] != orders  # another round's seed, another order


def test_win_rate_worked_example():
    r = win_rates(EXAMPLE)
    # A: adapter, tie, adapter = (2 + 0.5) / 3; B: base, adapter, base = 1 / 3; all: (4 + 0.5) / 7.
    assert r["groups"]["A"]["win_rate"]["value"] == pytest.approx(2.5 / 3)
    assert r["groups"]["B"]["win_rate"]["value"] == pytest.approx(1 / 3)
    assert r["all"]["win_rate"]["value"] == pytest.approx(4.5 / 7)
    assert (r["all"]["n"], r["all"]["participants"], r["all"]["adapter"], r["all"]["base"], r["all"]["tie"]) == \
        (7, 5, 4, 2, 1)
    assert r["ungrouped"]["n"] == 1 and r["worst_group"] == "B"
    # participants are resampled: A's rate lies between participant 1's (0.75) and participant 2's (1.0)
    a = r["groups"]["A"]["win_rate"]
    assert 0.75 <= a["low"] <= a["value"] <= a["high"] <= 1.0
    assert win_rates(EXAMPLE) == r  # seeded


def test_win_rate_without_choices_is_undefined_not_zero():
    r = win_rates([])
    assert r["all"]["n"] == 0 and r["all"]["win_rate"]["value"] is None and r["worst_group"] is None


def test_bridging_rule_needs_every_group_that_rated():
    assert preferred([c for c in EXAMPLE if c.prompt == 10])[0] is None  # A prefers the adapter, B the base
    both = [Choice(1, 1, "adapter", "A"), Choice(3, 1, "adapter", "B"), Choice(4, 1, "tie", "B"),
            Choice(5, 1, "base", None)]
    side, counts = preferred(both)
    assert side == "adapter" and counts["ungrouped"]["base"] == 1  # ungrouped people are counted, not decisive
    assert preferred([Choice(1, 1, "tie", "A")])[0] is None
    assert preferred([Choice(5, 1, "adapter", None)])[0] is None  # nobody in a group rated it


def test_preference_pairs_keep_provenance_and_leave_out_held_out_and_split_prompts():
    agree = [Choice(1, 1, "base", "A"), Choice(3, 1, "base", "B")]
    prompts = [
        RatedPrompt(4, 1, "Should the town plant trees?", "Yes, plant trees.", "Only where groups agree.", agree,
                    adapter_id=9),
        RatedPrompt(4, 2, "Held out?", "x", "y", [Choice(1, 2, "adapter", "A")], heldout_tid=12),
        RatedPrompt(4, 3, "Split?", "x", "y", [c for c in EXAMPLE if c.prompt == 10]),
        RatedPrompt(4, 4, "Nobody yet?", "x", "y"),
    ]
    pairs, summary = preference_pairs(prompts)
    assert len(pairs) == 1
    p = pairs[0]
    assert (p["chosen"], p["rejected"], p["kind"]) == ("Yes, plant trees.", "Only where groups agree.", "human_rating")
    assert p["source"]["rating_round_id"] == 4 and p["source"]["rating_prompt_id"] == 1
    assert p["source"]["counts"] == {"A": {"adapter": 0, "base": 1, "tie": 0}, "B": {"adapter": 0, "base": 1, "tie": 0}}
    (r,) = summary["rounds"]
    assert (r["prompts"], r["rated"], r["pairs"], r["held_out"], r["split"]) == (4, 3, 1, 1, 1)
