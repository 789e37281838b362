"""The candidate rule and the draft on a small assembly whose right constitution is known by construction."""

from __future__ import annotations

import json

import pytest

from assembly.constitution.build import build_draft
from assembly.constitution.candidates import ConsensusConfig, Counts, StatementIn, assess, gic, thresholds
from assembly.constitution.similarity import EMBEDDING, NGRAM, is_han, method_for, similarity_matrix
from tests.constitution_loader import PLANTED, planted_assembly

INFO = {"method": "planted", "parameters": {"groups": 2}, "run_id": "test"}


@pytest.fixture
def planted(db):
    return planted_assembly(db)


def test_planted_assembly_gives_the_constitution_it_was_built_for(db, planted):
    a, groups = planted
    doc = json.loads(build_draft(db, a, groups, INFO).document)
    by_principle = {p["id"]: [s["tid"] for s in p["statements"]] for p in doc["principles"]}
    # 0 and 1 say the same thing and are merged (0 words it: higher GIC); 6 is a principle of its own.
    assert by_principle == {"p0": [0, 1], "p6": [6]}
    assert doc["principles"][0]["merged"][0]["tid"] == 1
    assert doc["principles"][0]["merged"][0]["similarity"] >= doc["process"]["similarity"]["threshold"]
    reasons = {e["tid"]: e["reason"] for e in doc["excluded"]}
    assert reasons == {2: "divisive", 3: "low_agreement", 4: "too_few_votes", 5: "moderated_out", 7: "moderated_out"}
    divisive = next(e for e in doc["excluded"] if e["tid"] == 2)
    assert divisive["groups"] == ["B"] and "rejected by group B" in divisive["detail"]
    assert "supported by group A" in divisive["detail"]
    # The citizens' words stay verbatim beside the training form.
    p0 = doc["principles"][0]
    assert p0["text"] == "Everyone should have access to clean drinking water."
    assert p0["training_form"].startswith("Choose the response that") and p0["text"] in p0["training_form"]
    assert [g["label"] for g in doc["process"]["clustering"]["groups"]] == ["A", "B"]


def test_planted_figures(db, planted):
    a, groups = planted
    doc = json.loads(build_draft(db, a, groups, INFO).document)
    ev = doc["principles"][1]["statements"][0]  # statement 6
    assert ev["votes"] == {"agree": 17, "disagree": 1, "pass": 2, "seen": 20, "agree_share": 17 / 20}
    ga, gb = ev["groups"]
    assert (ga["agree"], ga["disagree"], ga["seen"], gb["agree"], gb["pass"]) == (9, 1, 10, 8, 2)
    assert ev["gic"] == (10 / 12) * (9 / 12)
    assert doc["process"]["vote_snapshot"]["count"] == sum(len(va) + len(vb) for _t, va, vb, _m in PLANTED.values())


def test_threshold_adapts_to_the_number_of_groups():
    config = ConsensusConfig()
    two = thresholds(config, 100, {0: 50, 1: 50})
    three = thresholds(config, 100, {0: 30, 1: 30, 2: 40})
    assert two.gic_threshold == pytest.approx(0.49) and three.gic_threshold == pytest.approx(0.343)
    # Three groups, each agreeing at 15 of 19 seen (smoothed 0.8): GIC 0.512 clears 0.343.
    statements = [StatementIn(0, "x", "accepted")]
    votes, groups = {}, {}
    for g in range(3):
        for i in range(19):
            pid = g * 100 + i
            groups[pid] = g
            votes[pid, 0] = 1 if i < 15 else -1
    (st,), th = assess(statements, votes, groups, config)
    assert st.decision == "candidate" and th.k == 3
    # A fourth group that is lukewarm (smoothed 0.55) fails the per-group floor even though GIC is high enough.
    for i in range(18):
        groups[300 + i] = 3
        votes[300 + i, 0] = 1 if i < 10 else 0
    (st,), th = assess(statements, votes, groups, config)
    assert st.gic >= th.gic_threshold and st.decision == "low_agreement" and "group 3" in st.detail


def test_minimum_votes_scale_with_assembly_size():
    config = ConsensusConfig()
    assert thresholds(config, 40, {0: 40}).min_votes == 10
    assert thresholds(config, 2000, {0: 1000, 1: 1000}).min_votes == 100
    assert thresholds(config, 2000, {0: 1000, 1: 1000}).min_group_votes == {0: 50, 1: 50}


def test_gic_is_polis_formula():
    groups = {1: Counts(agree=3, disagree=1, passed=1), 0: Counts(agree=0)}
    assert gic(groups) == (1 / 2) * (4 / 7)


@pytest.mark.parametrize("bad", [{"tau": 1.2}, {"floor": 0.4}, {"min_votes_floor": 0}])
def test_bad_config_is_refused(bad):
    with pytest.raises(ValueError):
        ConsensusConfig(**bad)


def test_build_refuses_groups_of_strangers(db, planted):
    a, _groups = planted
    with pytest.raises(ValueError, match="not in assembly"):
        build_draft(db, a, {999_999: 0}, INFO)


def test_han_similarity_finds_rewordings_not_topics():
    texts = ["我覺得Uber提供了更便利及更高品質的乘車環境", "我覺得UBER提供了更便利及高品質的乘車環境",
             "我覺得政府應該對運輸業設置公平的管制規則"]
    assert all(is_han(t) for t in texts)
    sim = similarity_matrix(texts, NGRAM)
    assert sim[0, 1] >= 0.6 > sim[0, 2]


def test_similarity_method_by_language_and_script():
    assert method_for(["Build more bike lanes."], "en") == EMBEDDING
    assert method_for(["我覺得應該審核人員"], "en") == NGRAM  # Mandarin statements in an English-tagged assembly
    # Romanised Taigi (POJ): the English model does not know it; character n-grams still see a rewording.
    taigi = ["Goán tio̍h pó-hō͘ kiat-chēng ê chúi", "Goán it-tēng tio̍h pó-hō͘ kiat-chēng ê chúi",
             "Chhī-lí ài khí tô͘-su-koán"]
    assert method_for(taigi, "nan-Latn-TW") == NGRAM
    sim = similarity_matrix(taigi, NGRAM)
    assert sim[0, 1] >= 0.6 > sim[0, 2]
