"""finetune.critique on the tiny test model: the answer -> critique -> revision mechanics, and refusals.

The tiny model is random, so what it writes is noise; these tests check the mechanics (three
generations per prompt through the shared decoding code, records with the principle's id, the
report's counts, determinism) and that a model without a chat template is refused with the reason.
"""

from __future__ import annotations

import pytest

from finetune import critique
from finetune.base_models import TINY_TEST_MODEL, load, resolve
from finetune.data import DatasetInput, build_dataset
from finetune.errors import CritiqueUnsupportedError, InvalidConfigError
from finetune.testing import planted_constitution
from finetune.tiny_model import build_tiny_test_model


@pytest.fixture(scope="module")
def planted():
    doc = planted_constitution("en")
    return doc, build_dataset(DatasetInput(doc))


@pytest.fixture(scope="module")
def tiny_chat(tmp_path_factory):
    """The tiny test model with a chat template, as a local Hugging Face folder, loaded."""
    folder = build_tiny_test_model(tmp_path_factory.mktemp("tiny-chat"), chat=True)
    base = resolve(str(folder), tmp_path_factory.mktemp("cache"))
    model, tokenizer = load(base, device="cpu")
    return folder, model.eval(), tokenizer


def test_critique_writes_revised_sft_records_and_revised_over_original_pairs(planted, tiny_chat):
    doc, data = planted
    _, model, tokenizer = tiny_chat
    principles = critique.principles_of(data.sft, doc)
    assert principles and all(p["text"] for p in principles)
    progress = []
    cfg = critique.CritiqueConfig(max_records=3, max_new_tokens=8)
    res = critique.augment(model, tokenizer, "tiny-chat", data.sft, principles, cfg,
                           on_record=lambda done, total: progress.append((done, total)))
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert res.attempted == 3 and len(res.sft) + res.skipped == 3 and len(res.sft) == len(res.preference) >= 1
    ids = [p["id"] for p in principles]
    for s, pair in zip(res.sft, res.preference, strict=True):
        assert s["kind"] == pair["kind"] == "critique"
        assert s["source"]["principle"] in ids and s["source"]["base_model"] == "tiny-chat"
        assert s["source"]["tids"], "the statement the prompt came from is named"
        assert s["prompt"] == pair["prompt"] and s["completion"] == pair["chosen"] != pair["rejected"]
        assert s["prompt"] in {r["prompt"] for r in data.sft if r["kind"] != "principle"}
    # principles are used round robin, in dataset order: the first prompt gets the first principle
    if res.skipped == 0:
        assert [s["source"]["principle"] for s in res.sft] == [ids[i % len(ids)] for i in range(3)]
    # greedy decoding: the same dataset and model write the same records
    again = critique.augment(model, tokenizer, "tiny-chat", data.sft, principles, cfg)
    assert again.sft == res.sft and again.preference == res.preference

    merged = critique.with_critique(data, res, "tiny-chat")
    counts = merged.report["counts"]
    assert counts["sft"]["critique"] == len(res.sft) and counts["preference"]["critique"] == len(res.preference)
    assert counts["sft_total"] == len(data.sft) + len(res.sft)
    assert merged.report["critique"] == {"records": len(res.sft), "pairs": len(res.preference), "attempted": 3,
                                         "skipped": res.skipped, "base_model": "tiny-chat",
                                         "principles": sorted({s["source"]["principle"] for s in res.sft})}
    assert merged.heldout == data.heldout and merged.sha256 != data.sha256
    assert merged.provenance["critique_of_dataset_sha256"] == data.sha256


def test_critique_stops_between_prompts_when_asked(planted, tiny_chat):
    doc, data = planted
    _, model, tokenizer = tiny_chat
    res = critique.augment(model, tokenizer, "tiny-chat", data.sft, critique.principles_of(data.sft, doc),
                           critique.CritiqueConfig(max_records=5, max_new_tokens=4), should_stop=lambda: True)
    assert res.attempted == 0 and res.sft == [] and res.preference == []


def test_a_base_model_without_a_chat_template_is_refused_with_the_reason(planted, tmp_path):
    doc, data = planted
    base = resolve(TINY_TEST_MODEL, tmp_path / "cache")
    assert not critique.has_chat_template(base.local_dir)
    model, tokenizer = load(base, device="cpu")
    with pytest.raises(CritiqueUnsupportedError, match=r"no chat template.*only a chat"):
        critique.augment(model, tokenizer, TINY_TEST_MODEL, data.sft, critique.principles_of(data.sft, doc),
                         critique.CritiqueConfig(max_records=1, max_new_tokens=4))


def test_has_chat_template_reads_the_folder(tmp_path, tiny_chat):
    assert critique.has_chat_template(tiny_chat[0])
    assert not critique.has_chat_template(tmp_path)  # no tokenizer files at all


def test_held_out_principles_never_become_critique_criteria(planted):
    doc, data = planted
    held = {p["id"] for p in doc["principles"]} - {r["source"]["principle"] for r in data.sft
                                                    if r["kind"] == "principle"}
    ids = {p["id"] for p in critique.principles_of(data.sft, doc)}
    assert ids and not ids & held


def test_critique_config_is_validated():
    with pytest.raises(InvalidConfigError, match="max_records"):
        critique.CritiqueConfig(max_records=0)
