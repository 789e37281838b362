"""Evals math against worked examples (the ones in docs/evals.md), and a model that always agrees."""

from __future__ import annotations

import math

import numpy as np
import pytest

from finetune.evals.items import EvalError, EvalItem, item_from_dict, validate_all
from finetune.evals.metrics import bootstrap, brier, mean_over, paired_difference, representativeness, spearman
from finetune.evals.scoring import option_distributions
from finetune.evals.suites import EvalSource, OpinionStatement, get
from finetune.evals.suites.opinions import statement_kind


class AlwaysAgree:
    """A planted model: the option " agree" / "同意" costs nothing, every other option 50 nats."""

    name = "always-agree-model"

    def __init__(self):
        self.calls = 0

    def loglikelihood(self, requests, progress=None):
        self.calls += len(requests)
        return [0.0 if cont.strip() in ("agree", "同意") else -50.0 for _, cont in requests]

    def generate(self, prompts, max_new_tokens=64):
        return ["agree" for _ in prompts]


def test_representativeness_worked_example():
    # model (0.5, 0.3, 0.2) vs community (0.2, 0.3, 0.5): CDFs (0.5, 0.8) vs (0.2, 0.5),
    # W1 = 0.3 + 0.3 = 0.6, normalised by N - 1 = 2: 1 - 0.3 = 0.7.
    assert representativeness(np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])) == pytest.approx(0.7)
    assert representativeness(np.array([1, 0, 0]), np.array([0, 0, 1])) == pytest.approx(0.0)
    assert representativeness(np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5])) == pytest.approx(1.0)
    # ordinal: all mass on "unsure" is closer to "disagree" than "agree" is
    assert representativeness(np.array([0, 1, 0]), np.array([0, 0, 1])) == pytest.approx(0.5)


def test_brier_and_spearman_worked_examples():
    assert brier(np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])) == pytest.approx(0.18)
    assert spearman([0.1, 0.2, 0.3, 0.4], [0.3, 0.5, 0.6, 0.9]) == pytest.approx(1.0)
    assert spearman([0.4, 0.3, 0.2, 0.1], [0.3, 0.5, 0.6, 0.9]) == pytest.approx(-1.0)
    assert math.isnan(spearman([0.2, 0.2, 0.2], [0.1, 0.5, 0.9]))  # constant answers: undefined, not 0


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = np.linspace(0, 1, 41)
    a = bootstrap(mean_over(values), len(values))
    b = bootstrap(mean_over(values), len(values))
    assert a == b
    assert a.value == pytest.approx(0.5)
    assert a.low < 0.5 < a.high
    # a paired difference of a metric with itself is exactly zero on every resample
    d = paired_difference(mean_over(values), mean_over(values), len(values))
    assert (d.value, d.low, d.high) == (0.0, 0.0, 0.0)


def _source() -> EvalSource:
    stmts = (
        OpinionStatement("1", "Drivers need a licence", (0.6, 0.1, 0.3), {"A": (0.8, 0.1, 0.1), "B": (0.4, 0.1, 0.5)}),
        OpinionStatement("2", "Ban ride-sharing", (0.2, 0.2, 0.6), {"A": (0.1, 0.1, 0.8), "B": (0.3, 0.3, 0.4)}),
    )
    return EvalSource("planted", "zh-Hant-TW", ("en",), heldout=stmts)


def test_a_model_that_always_agrees_scores_what_the_metric_says():
    """By hand, for an answer (1, 0, 0): statement 1 (0.6, 0.1, 0.3): W1 = 0.4 + 0.3 = 0.7,
    representativeness 0.65, Brier 0.16 + 0.01 + 0.09 = 0.26; statement 2 (0.2, 0.2, 0.6):
    W1 = 0.8 + 0.6 = 1.4, representativeness 0.3, Brier 0.64 + 0.04 + 0.36 = 1.04. Each is asked in
    two languages, so the means are 0.475 and 0.65. Statement 2 is rejected: accuracy 0 there."""
    suite = get("consensus")
    items = suite.items(_source())
    assert len(items) == 4 and {it.language for it in items} == {"zh-Hant-TW", "en"}
    model = AlwaysAgree()
    result = suite.evaluate(items, model)
    all_items = np.arange(len(items))
    expected_p = 1 / (1 + 2 * math.exp(-50))
    assert result.records[0]["distribution"][0] == pytest.approx(expected_p, abs=1e-15)
    assert result.metrics["representativeness"](all_items) == pytest.approx(0.475, abs=1e-12)
    assert result.metrics["brier"](all_items) == pytest.approx(0.65, abs=1e-12)
    assert result.metrics["accuracy_rejected"](all_items) == 0.0
    assert math.isnan(result.metrics["accuracy_consensus"](all_items))  # no consensus statement here
    # 3 rotations x 3 options per item: the order the options were listed in was permuted
    assert model.calls == 4 * 3 * 3
    # and it is exactly the always-agree baseline
    base = suite.baselines(items)["always-agree"]
    assert base.metrics["representativeness"](all_items) == pytest.approx(0.475)
    # plurality: group A 0.85 and 0.15 (mean 0.5), group B 0.45 and 0.45: worst 0.45, gap 0.05
    plural = get("plurality").evaluate(get("plurality").items(_source()), AlwaysAgree())
    assert plural.metrics["worst_group"](all_items) == pytest.approx(0.45, abs=1e-12)
    assert plural.metrics["gap"](all_items) == pytest.approx(0.05, abs=1e-12)
    # group B's plurality answer is "disagree" on both statements: all wrong for the worst-served group
    assert plural.metrics["worst_group_error"](all_items) == 1.0


def test_options_are_rotated_in_the_prompt():
    it = get("consensus").items(_source())[1]  # English
    prompts = [p for p, _ in it.variants()]
    assert len(set(prompts)) == 3
    assert "agree / unsure / disagree" in prompts[0] and "unsure / disagree / agree" in prompts[1]


def test_statement_kind_from_shares():
    both = {"A": (0.6, 0.2, 0.2), "B": (0.8, 0, 0.2)}
    split = {"A": (0.9, 0, 0.1), "B": (0.1, 0, 0.9)}
    assert statement_kind(OpinionStatement("x", "t", (0.7, 0.1, 0.2), both)) == "consensus"
    assert statement_kind(OpinionStatement("x", "t", (0.5, 0.1, 0.4), split)) == "divisive"
    assert statement_kind(OpinionStatement("x", "t", (0.1, 0.1, 0.8))) == "rejected"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prompt": " "}, "empty prompt"),
        ({"options": ["a"], "continuations": ["x"]}, "at least two options"),
        ({"continuations": ["x", "x"]}, "same continuation"),
        ({"target": [0.5, 0.6]}, "sum to"),
        ({"correct": 5}, "out of range"),
    ],
)
def test_malformed_items_are_refused_with_the_reason(change, message):
    good = {"id": "i1", "prompt": "Q?", "options": ["good", "bad"], "continuations": [" yes", " no"]}
    assert item_from_dict(good, "community").id == "i1"
    with pytest.raises(EvalError, match=message):
        item_from_dict({**good, **change}, "community")
    with pytest.raises(EvalError, match="missing or bad field"):
        item_from_dict({"id": "x"}, "community")


def test_empty_suite_and_duplicate_ids_are_refused():
    with pytest.raises(EvalError, match="no items"):
        validate_all([], "consensus")
    it = EvalItem("a", "s", "Q", ("x", "y"), (" x", " y"))
    with pytest.raises(EvalError, match="duplicate item id"):
        validate_all([it, it], "s")


def test_option_distributions_average_over_rotations():
    class OrderSensitive:
        """Prefers whichever option is listed first: rotation averaging must cancel that out."""

        name = "first-listed"

        def loglikelihood(self, requests, progress=None):
            out = []
            for ctx, cont in requests:
                listed = ctx.split("one word: ")[1].split(".")[0].split(" / ")
                out.append(0.0 if cont.strip() == listed[0] else -5.0)
            return out

    items = get("consensus").items(EvalSource("s", "en", heldout=_source().heldout))
    dists, raw = option_distributions(items, OrderSensitive())
    assert np.allclose(dists[0], 1 / 3)
    assert len(raw[0]) == 3
