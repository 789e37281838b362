"""Taigi language records for the adapter: when they go in, what they hold, what stays out, and the card note."""

from __future__ import annotations

from finetune.data import DatasetInput, build_dataset, is_heldout
from finetune.taigi_data import PAIRS, card_note, language_records, reading, wants_taigi
from finetune.testing import planted_constitution

STATEMENTS = [{"tid": i, "text": t} for i, t in enumerate([
    "市場應該改建做有冷氣的新大樓。", "透早的時陣，機車停甲規路邊，行路真危險。",
    "攤販的垃圾愛照時間收，毋通囥佇路邊。",
    "厝邊應該有權利決定市場的未來。", "我覺得這個政策對老百姓沒有什麼幫助。", "The market should stay open late.",
    "市場的公共便所愛加整理，保持清氣。", "逐禮拜應該有一工辦在地農民的市集。",
])]


def test_only_for_taigi_assemblies_or_on_request():
    assert wants_taigi("nan-Hant-TW") and wants_taigi("nan") and wants_taigi("nan-Latn")
    assert not wants_taigi("zh-Hant-TW") and not wants_taigi("en") and not wants_taigi("nanx")
    assert wants_taigi("zh-Hant-TW", requested=True)
    assert language_records(STATEMENTS, "demo", "zh-Hant-TW") == []
    assert language_records(STATEMENTS, "demo", "zh-Hant-TW", requested=True, words=3)


def test_records_hold_dictionary_readings_pairs_and_the_assemblys_own_taigi():
    records = language_records(STATEMENTS, "demo", "nan-Hant-TW", words=20, heldout_share=0.3)
    kinds = [r["kind"] for r in records]
    dictionary = [r for r in records if r["source"]["language_stage"] == "dictionary"]
    assert len(dictionary) == 20
    for r in dictionary:
        assert r["completion"] == reading(r["source"]["word"]) and r["source"]["word"] in r["prompt"]
        assert "CC BY-ND 3.0 TW" in r["source"]["licence"]
    assert kinds.count("mandarin-taigi") == len(PAIRS)
    own = {r["source"]["tid"] for r in records if r["source"]["language_stage"] == "statement"}
    held = {s["tid"] for s in STATEMENTS if is_heldout("demo", s["tid"], 0.3)}
    assert held and not own & held  # held-out statements never enter
    assert 4 not in own and 5 not in own  # Mandarin and English statements are not Taigi records
    assert own == {0, 1, 2, 3, 6, 7} - held
    readings = [r for r in records if r["kind"] == "taigi-reading" and r["source"]["language_stage"] == "statement"]
    assert all(r["completion"] == reading(STATEMENTS[r["source"]["tid"]]["text"]) for r in readings)
    assert all(r["prompt"] and r["completion"] for r in records)


def test_deterministic():
    first = language_records(STATEMENTS, "demo", "nan", words=10)
    assert first == language_records(STATEMENTS, "demo", "nan", words=10)


def test_they_join_the_dataset_through_extra_sft():
    extra = language_records(STATEMENTS, "planted", "nan-Hant-TW", words=5)
    ds = build_dataset(DatasetInput(constitution=planted_constitution("zh-Hant-TW"), extra_sft=extra))
    kinds = [r["kind"] for r in ds.sft]
    assert kinds.count("taigi-reading") == sum(r["kind"] == "taigi-reading" for r in extra)
    assert "mandarin-taigi" in kinds


def test_card_note_states_the_dictionary_licence_and_use():
    records = language_records(STATEMENTS, "demo", "nan", words=7)
    note = card_note(records)
    assert "CC BY-ND 3.0 TW" in note and "7 dictionary words" in note and "Ministry of Education" in note
    assert card_note([]) == ""
