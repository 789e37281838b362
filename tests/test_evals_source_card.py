"""Suite inputs from the real fine-tuning dataset, the steerable gain, the card's model-index and
table, and the lm-eval export's files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from finetune.data import DatasetInput, build_dataset
from finetune.evals import report
from finetune.evals.card import card_table, label, model_index
from finetune.evals.items import EvalError
from finetune.evals.lmeval_export import export_suite
from finetune.evals.source import heldout_statements, source_from_dataset
from finetune.evals.suites import EvalSource, OpinionStatement, get
from finetune.testing import planted_constitution


def test_source_from_the_planted_dataset_never_steers_with_held_out_statements():
    doc = planted_constitution("zh-Hant-TW")
    ds = build_dataset(DatasetInput(constitution=doc))
    src = source_from_dataset("planted", ds.language, ds.heldout, doc, ds.groups)
    held = {s.text for s in src.heldout}
    assert src.heldout and src.language == "zh-Hant-TW" and src.ask_in() == ("zh-Hant-TW", "en")
    assert set(src.group_views) == {"A", "B"}
    for views in src.group_views.values():
        assert views and not {t for t, _ in views} & held
    # the divisive statements separate the groups: A agrees where B disagrees
    a, b = dict(src.group_views["A"]), dict(src.group_views["B"])
    assert any(a[t] == "agree" and b.get(t) == "disagree" for t in a)
    kinds = {s.kind for s in src.heldout}
    assert "consensus" in kinds
    s = src.heldout[0]
    assert math.isclose(sum(s.shares), 1) and all(math.isclose(sum(v), 1) for v in s.groups.values())


def test_malformed_heldout_row_is_a_clear_error():
    with pytest.raises(EvalError, match="malformed held-out statement 7"):
        heldout_statements([{"tid": 7, "text": "x"}])


class Steered:
    """Unsteered (0.4, 0.2, 0.4); told group B's view, (0.2, 0.1, 0.7): the docs' worked example."""

    name = "steered"

    def loglikelihood(self, requests, progress=None):
        out = []
        for ctx, cont in requests:
            p = (0.2, 0.1, 0.7) if ctx.startswith("You answer as") else (0.4, 0.2, 0.4)
            out.append(math.log(p[(" agree", " unsure", " disagree").index(cont)]))
        return out


def test_steerable_gain_worked_example():
    s = OpinionStatement("1", "Ban ride-sharing", (0.3, 0.1, 0.6), {"B": (0.1, 0.1, 0.8)})
    src = EvalSource("x", "en", heldout=(s,), group_views={"B": (("Taxis are fine", "agree"),)})
    suite = get("steerable")
    items = suite.items(src)
    assert [it.meta.get("steered_to") for it in items] == [None, "B"]
    r = suite.evaluate(items, Steered())
    idx = np.arange(len(items))
    assert r.metrics["unsteered"](idx) == pytest.approx(0.65)
    assert r.metrics["steered"](idx) == pytest.approx(0.9)
    assert r.metrics["steer_gain"](idx) == pytest.approx(0.25)


def test_card_model_index_table_and_label(tmp_path):
    from tests.test_evals_report import SOURCE, Planted, blurred, group_a

    rep = report.run(SOURCE, [Planted("base", blurred), Planted("adapter", group_a)], ["consensus", "plurality"])
    idx = model_index(rep, "planted/one")
    assert idx[0]["name"] == "planted/one"
    names = {r["dataset"]["name"] for r in idx[0]["results"]}
    assert names == {"planted consensus", "planted plurality"}
    metric = idx[0]["results"][0]["metrics"][0]
    assert set(metric) == {"type", "name", "value", "verified"}
    table = card_table(rep)
    assert table.startswith("**Not fit to ship.**")
    assert "| plurality · Worst group's representativeness | beat |" in table
    assert "40%" in label(rep)  # 4 of the 10 statements are divisive: all wrong for group B
    folder = export_suite(get("plurality"), get("plurality").items(SOURCE), "planted", tmp_path / "x")
    config = yaml.safe_load((folder / "aa_planted_plurality.yaml").read_text().replace("!function ", "fn-"))
    path = config["dataset_kwargs"]["data_files"]["test"]
    assert path.startswith("/") and path.endswith("aa_planted_plurality.jsonl")
    assert (folder / "utils.py").read_text().startswith('"""lm-evaluation-harness hooks')
    assert "!function utils.agg_worst_group" in (folder / "aa_planted_plurality.yaml").read_text()
