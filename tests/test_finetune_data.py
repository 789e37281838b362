"""finetune.data: records from a planted constitution with a known answer, holdout, scrub, hashes."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from finetune import prompts
from finetune.data import FILES, DatasetInput, TrainingDataset, build_dataset, is_heldout
from finetune.errors import EmptyDatasetError, InvalidDatasetInputError
from finetune.testing import PLAN, planted_constitution


@pytest.fixture(params=["en", "zh-Hant-TW"])
def planted(request):
    """The planted export in English and in zh-Hant-TW, and the dataset built from it."""
    doc = planted_constitution(request.param)
    return doc, build_dataset(DatasetInput(doc))


def all_text(ds: TrainingDataset) -> str:
    return "".join(ds.jsonl(n).decode() for n in FILES)


def planned_kinds() -> dict[int, str]:
    """tid -> the kind the plan gives it (the known answer)."""
    kinds, tid = {}, 0
    for kind, count, _, _ in PLAN:
        for _ in range(count):
            kinds[tid] = {"thin": "too_few_votes"}.get(kind, kind)
            tid += 1
    return kinds


def test_statements_are_classified_as_planted(planted):
    _, ds = planted
    expected = {}
    for kind in planned_kinds().values():
        expected[kind] = expected.get(kind, 0) + 1
    assert ds.report["statements"] == expected
    for r in ds.sft:
        if r["kind"] in ("consensus", "rejected", "divisive", "mixed"):
            assert r["kind"] == planned_kinds()[r["source"]["tids"][0]]


def test_consensus_and_rejected_answers_state_every_groups_figures(planted):
    doc, ds = planted
    lang = prompts.template_language(doc["assembly"]["language"])
    words = prompts.STANCE[lang]
    for r in ds.sft:
        fig = r["source"]["figures"][0]
        if r["kind"] == "consensus":
            assert r["completion"].strip().startswith(words["agree"] + ("." if lang == "en" else "。"))
        elif r["kind"] == "rejected":
            assert r["completion"].strip().startswith(words["disagree"])
        else:
            continue
        for g in fig["groups"]:
            assert f"{g['label']} " in r["completion"]
            share = g["agree"] if r["kind"] == "consensus" else g["disagree"]
            assert f"{round(100 * share / g['seen'])}%" in r["completion"]


def test_divisive_statements_describe_each_group_never_the_majority(planted):
    doc, ds = planted
    lang = prompts.template_language(doc["assembly"]["language"])
    divisive = [r for r in ds.sft if r["kind"] == "divisive"]
    assert divisive
    for r in divisive:
        text = r["completion"].strip()
        assert text.startswith(prompts.STANCE[lang]["differ"])
        assert not text.startswith((prompts.STANCE[lang]["agree"] + ".", prompts.STANCE[lang]["agree"] + "。"))
        groups = r["source"]["figures"][0]["groups"]
        a, b = groups  # planted: A backs, B rejects
        assert f"{round(100 * a['agree'] / a['seen'])}%" in text
        assert f"{round(100 * b['disagree'] / b['seen'])}%" in text
        mostly_agree = {"en": "mostly agrees", "zh-Hant": "多數同意"}[lang]
        mostly_disagree = {"en": "mostly disagrees", "zh-Hant": "多數不同意"}[lang]
        assert mostly_agree in text and mostly_disagree in text


def test_bridging_pairs_are_preferred_by_every_group(planted):
    _, ds = planted
    bridging = [p for p in ds.preference if p["kind"] == "bridging"]
    assert bridging
    for p in bridging:
        chosen, rejected = p["source"]["figures"]
        assert p["chosen"].strip() and p["rejected"].strip() and p["chosen"] != p["rejected"]
        for gc, gr in zip(chosen["groups"], rejected["groups"], strict=True):
            assert gc["agree"] / gc["seen"] - gr["agree"] / gr["seen"] >= 0.1, (gc, gr)
        assert planned_kinds()[chosen["tid"]] == "consensus"
    # the weakly backed divisive statements (A 53%) are bridged over; the strongly backed ones (A 80%) cannot be
    rejected_kinds = {planned_kinds()[p["source"]["tids"][1]] for p in bridging}
    assert "divisive" in rejected_kinds
    strong_divisive = set(range(12, 18))
    assert not any(p["source"]["tids"][1] in strong_divisive for p in bridging)


def test_stance_pairs_choose_the_communitys_answer(planted):
    _, ds = planted
    stance = [p for p in ds.preference if p["kind"] == "stance"]
    assert {planned_kinds()[p["source"]["tids"][0]] for p in stance} == {"consensus", "rejected"}
    for p in stance:
        rec = next(r for r in ds.sft if r["prompt"] == p["prompt"] and r["kind"] != "principle")
        assert p["chosen"] == rec["completion"] and p["rejected"] != rec["completion"]


def test_heldout_is_deterministic_from_ids_and_never_trained_on(planted):
    doc, ds = planted
    again = build_dataset(DatasetInput(copy.deepcopy(doc)))
    assert again.heldout == ds.heldout and again.sha256 == ds.sha256
    held = {h["tid"] for h in ds.heldout}
    assert held == {t for t, k in planned_kinds().items() if k != "too_few_votes" and is_heldout("planted", t, 0.2)}
    trained = {t for r in ds.sft + ds.preference for t in r["source"]["tids"]}
    assert held and not held & trained
    held_texts = {h["text"] for h in ds.heldout}
    assert not any(r["prompt"].find(t) >= 0 or r["completion"].find(t) >= 0 for r in ds.sft for t in held_texts)
    for h in ds.heldout:
        for row in [h["overall"], *h["groups"]]:
            assert row["agree_share"] + row["disagree_share"] + row["pass_share"] == pytest.approx(1)
        assert [g["size"] for g in h["groups"]] == [30, 20]


def test_heldout_rule_share_and_nesting():
    """About `share` of ids are held out, and a larger share holds out a superset."""
    ids = range(20000)
    small = {i for i in ids if is_heldout("x", i, 0.1)}
    large = {i for i in ids if is_heldout("x", i, 0.2)}
    assert 0.18 < len(large) / 20000 < 0.22 and small < large
    assert is_heldout("x", 5, 0.2) == is_heldout("x", 5, 0.2)
    assert {i for i in ids if is_heldout("y", i, 0.2)} != large  # the assembly's slug is part of the rule
    doc = planted_constitution()
    assert build_dataset(DatasetInput(doc, heldout_share=0)).heldout == []


def test_privacy_scrub_and_no_participant_ids(planted):
    _, ds = planted
    assert ds.report["scrubbed"] == {"email": 1, "url": 1, "phone": 1}
    text = all_text(ds)
    for secret in ("jane.doe@example.com", "0912-345-678", "https://example.org", "xid-secret-4242", "4242"):
        assert secret not in text
    assert "[email]" in text and "[phone]" in text and "[url]" in text
    for r in ds.sft + ds.preference:
        assert not {"author", "xid", "pid", "participant"} & set(json.dumps(r))


def test_moderated_out_statements_are_never_used(planted):
    doc, ds = planted
    moderated = next(e for e in doc["excluded"] if e["reason"] == "moderated_out")
    assert moderated["text"] not in all_text(ds)


def test_records_are_in_the_assemblys_language():
    zh = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW")))
    assert all("陳述" in r["prompt"] or "原則" in r["prompt"] for r in zh.sft)
    nan = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW"), language="nan-Hant-TW"))
    assert nan.report["template_language"] == "nan-Hant" and any("講法" in r["prompt"] for r in nan.sft)
    fr = build_dataset(DatasetInput(planted_constitution("en"), language="fr"))
    assert fr.report["notes"] and "English" in fr.report["notes"][0]


def test_principle_records_name_their_source(planted):
    doc, ds = planted
    principles = [r for r in ds.sft if r["kind"] == "principle"]
    ids = {p["id"] for p in doc["principles"]}
    assert principles and all(r["source"]["principle"] in ids for r in principles)
    held = {h["tid"] for h in ds.heldout}
    for r in principles:
        assert not set(r["source"]["tids"]) & held
        assert r["source"]["figures"][0]["groups"][0]["label"] == "A"


def test_sha256_is_sha256sum_of_the_written_files(tmp_path, planted):
    _, ds = planted
    ds.write_jsonl(tmp_path / "ds")
    lines = "".join(f"{hashlib.sha256((tmp_path / 'ds' / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(FILES))
    assert hashlib.sha256(lines.encode()).hexdigest() == ds.sha256
    back = TrainingDataset.read_jsonl(tmp_path / "ds")
    assert back.sha256 == ds.sha256 and back.heldout == ds.heldout and back.provenance == ds.provenance
    (tmp_path / "ds" / "sft.jsonl").write_text("{}\n")
    with pytest.raises(InvalidDatasetInputError, match="do not match"):
        TrainingDataset.read_jsonl(tmp_path / "ds")


def test_provenance_and_report(planted):
    doc, ds = planted
    assert ds.provenance == {
        "assembly": "planted", "constitution_version": 1, "constitution_status": "published",
        "constitution_hash": doc["content_hash"], "clustering_run_id": 7, "clustering_hash": "c" * 64,
        "vote_snapshot_sha256": "d" * 64, "vote_snapshot_count": 1200}
    c = ds.report["counts"]
    assert c["sft_total"] == len(ds.sft) == sum(c["sft"].values())
    assert c["heldout"] == len(ds.heldout) and set(ds.report["samples"]) >= {"sft:consensus", "preference:bridging"}


def test_extra_records_join_and_are_scrubbed():
    extra = {"prompt": "台語：食飽未？", "completion": "食飽矣，寫信 a@b.org", "kind": "language",
             "source": {"dictionary": "MOE"}}
    ds = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW"), extra_sft=[extra]))
    rec = [r for r in ds.sft if r["kind"] == "language"]
    assert rec == [{"prompt": "台語：食飽未？", "completion": "食飽矣，寫信 [email]", "kind": "language",
                    "source": {"dictionary": "MOE"}}]
    assert ds.report["counts"]["sft"]["language"] == 1
    with pytest.raises(InvalidDatasetInputError, match="extra record"):
        build_dataset(DatasetInput(planted_constitution(), extra_sft=[{"prompt": "x"}]))


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(InvalidDatasetInputError, match="not published"):
        build_dataset(DatasetInput(planted_constitution(status="draft")))
    assert build_dataset(DatasetInput(planted_constitution(status="draft"), allow_draft=True)).sft
    with pytest.raises(InvalidDatasetInputError, match="not a constitution export"):
        build_dataset(DatasetInput({"principles": []}))
    with pytest.raises(InvalidDatasetInputError, match="heldout_share"):
        build_dataset(DatasetInput(planted_constitution(), heldout_share=1.0))
    doc = planted_constitution()
    doc["principles"][0]["statements"][0]["groups"][0]["agree"] = -3
    with pytest.raises(InvalidDatasetInputError, match="negative"):
        build_dataset(DatasetInput(doc))


def test_an_assembly_with_too_few_votes_is_an_empty_dataset():
    doc = planted_constitution()
    doc["principles"] = []
    doc["process"]["consensus"]["min_votes"] = 10_000
    with pytest.raises(EmptyDatasetError, match="nothing to train on"):
        build_dataset(DatasetInput(doc))


def test_statement_figures_from_the_clustering_run_override_the_export():
    doc = planted_constitution()
    ev = copy.deepcopy(next(e for e in doc["excluded"] if e["reason"] == "divisive")["evidence"])
    ev["groups"][1].update(agree=18, disagree=1, **{"pass": 1})  # B now agrees too: no longer divisive
    ds = build_dataset(DatasetInput(doc, statements=[ev], heldout_share=0))
    rec = next(r for r in ds.sft if r["source"]["tids"] == [ev["tid"]] and r["kind"] != "principle")
    assert rec["kind"] == "agreed" and rec["completion"].startswith(" Agree.")
    assert rec["source"]["figures"][0]["groups"][1]["agree"] == 18
