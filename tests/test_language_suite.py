"""The language suite: items per assembly language, scoring from planted answers, and a real run on the
tiny test model (base and adapter side by side) through the evals report."""

from __future__ import annotations

import numpy as np
import pytest

from finetune.evals.language_suite import (
    QUESTIONS,
    SUITE,
    TRANSLITERATE,
    chrf_pp,
    in_language,
    requested_label,
    tailo_reading,
)
from finetune.evals.suites import EvalSource, OpinionStatement, get

HELD = tuple(OpinionStatement(str(i), t, (0.6, 0.2, 0.2)) for i, t in
             enumerate(["市場應該改建做有冷氣的新大樓。", "市場邊仔應該加設停車場。"]))
TAIGI = EvalSource("taigi", "nan-Hant-TW", heldout=HELD)


def test_registered_with_the_evals_and_in_the_promotion_rule():
    assert get("language") is SUITE
    assert SUITE.promotion == {"requested_language_rate": "not_worse"}
    assert SUITE.headline in {m.name for m in SUITE.metric_specs}


@pytest.mark.parametrize(("tag", "label"), [("nan-Hant-TW", "nan-Hant"), ("nan", "nan-Hant"), ("nan-Latn", "nan-Latn"),
                                            ("zh-Hant-TW", "cmn"), ("zh-HK", "yue"), ("yue", "yue"), ("en", "other")])
def test_requested_label_of_an_assembly_language(tag, label):
    assert requested_label(tag) == label


def test_either_taigi_script_answers_a_taigi_request():
    assert in_language("nan-Latn", "nan-Hant") and in_language("nan-Hant", "nan-Latn")
    assert not in_language("cmn", "nan-Hant") and not in_language(None, "cmn") and in_language("cmn", "cmn")


def test_items_for_a_taigi_assembly():
    items = SUITE.items(TAIGI)
    kinds = [it.kind for it in items]
    assert kinds.count("assembly") == len(HELD) + len(QUESTIONS)
    assert kinds.count("taigi-request") == len(QUESTIONS)
    assert kinds.count("transliteration") == len(TRANSLITERATE)
    assembly = [it for it in items if it.kind == "assembly"]
    assert all(it.meta["requested"] == "nan-Hant" for it in assembly)
    assert "市場應該改建做有冷氣的新大樓。" in assembly[0].prompt
    request = next(it for it in items if it.kind == "taigi-request")
    assert request.prompt.startswith("問：請用台語回答：")
    tailo = next(it for it in items if it.kind == "transliteration")
    assert tailo.meta["reference"] == tailo_reading(TRANSLITERATE[0]) == "Guán tau tī tshài-tshī-á pinn-á."


def test_an_english_assembly_still_gets_the_taigi_requests():
    items = SUITE.items(EvalSource("town", "en", heldout=HELD))
    assert {it.kind for it in items} == {"assembly", "taigi-request", "transliteration"}
    assert all(it.meta["requested"] == "other" for it in items if it.kind == "assembly")


def test_scores_from_planted_answers():
    items = SUITE.items(TAIGI)
    answers = []
    for i, it in enumerate(items):
        if it.kind == "transliteration":
            answers.append(it.meta["reference"] if i % 2 == 0 else "")  # half perfect, half empty
        elif it.kind == "taigi-request":  # claims Taigi but writes Mandarin on every other item
            answers.append("這馬我用台語講：阮攏感覺按呢足好，毋過猶閣愛參詳。" if i % 2
                           else "以下是台語的回答：我覺得這樣很好，大家一起努力。")
        else:
            answers.append("阮攏感覺按呢足好，毋過猶閣愛參詳。")
    result = SUITE.score("planted", items, answers)
    idx = np.arange(len(items))
    n_req = sum(it.kind == "taigi-request" for it in items)
    mandarin = sum(1 for i, it in enumerate(items) if it.kind == "taigi-request" and i % 2 == 0)
    assert result.metrics["taigi_request_rate"](idx) == pytest.approx((n_req - mandarin) / n_req)
    assert result.metrics["claims_taigi_not_taigi"](idx) == pytest.approx(mandarin / n_req)
    n_answered = sum(it.kind != "transliteration" for it in items)
    assert result.metrics["requested_language_rate"](idx) == pytest.approx((n_answered - mandarin) / n_answered)
    assert result.metrics["transliteration_chrf"](idx) == pytest.approx(50.0, abs=1.0)
    rec = next(r for r in result.records if r["kind"] == "taigi-request" and r["claims_taigi"])
    assert rec["detected"] == "cmn" and rec["in_requested_language"] is False


def test_baselines_bracket_the_rate():
    items = SUITE.items(TAIGI)
    base = SUITE.baselines(items)
    idx = np.arange(len(items))
    assert base["reference answers"].metrics["taigi_request_rate"](idx) == 1.0
    assert base["always the other language"].metrics["taigi_request_rate"](idx) <= 0.2  # detector errors only


def test_chrf_pp_against_the_reading():
    ref = tailo_reading("今仔日天氣真好。")
    assert chrf_pp(ref, ref) == pytest.approx(100.0)
    assert chrf_pp("Kin-á-ji̍t thinn-khì tsin hó", ref) > 60 > chrf_pp("今天天氣很好", ref)


def test_generates_and_scores_on_the_tiny_model_base_and_adapter(tmp_path):
    """The real path: finetune-core's tiny model, a LoRA adapter, greedy generation, the report."""
    from peft import LoraConfig, get_peft_model

    from finetune import base_models
    from finetune.evals import report
    from finetune.evals.scoring import load_scorers

    base = base_models.resolve(base_models.TINY_TEST_MODEL, tmp_path)
    model, _ = base_models.load(base, device="cpu")
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    scorers, info = load_scorers(None, tmp_path / "adapter", tmp_path)
    source = EvalSource("taigi", "nan-Hant-TW", heldout=HELD[:1])
    first = SUITE.evaluate(SUITE.items(source), scorers[0])
    again = SUITE.evaluate(SUITE.items(source), scorers[0])
    assert [r["answer"] for r in first.records] == [r["answer"] for r in again.records]  # greedy: repeatable
    assert all(0 <= r["preferred_mass"] <= 1 for r in first.records)
    rep = report.run(source, scorers, ["language"], samples=50, models=info)
    suite = rep["suites"]["language"]
    assert len(suite["items"]) == len(first.records)
    assert any(c["suite"] == "language" for c in rep["promotion"]["checks"])
