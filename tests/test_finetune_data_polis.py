"""finetune.data on real conversations (vTaiwan in zh-Hant-TW, Brexit in English), from the platform's own export."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from app import create_app
from assembly.constitution.build import build_draft
from assembly.constitution.export import to_json
from assembly.constitution.groups import groups_from_polis_export
from assembly.constitution.versions import publish
from assembly.migrate import upgrade
from finetune.data import DatasetInput, build_dataset, is_heldout
from tests.conftest import need_shared
from tests.constitution_loader import load_polis

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module", params=[("vtaiwan.uberx", "zh-Hant-TW"), ("brexit-consensus", "en")])
def real(request, databases):
    """(export, dataset) of one conversation with Polis's own groups, published as version 1."""
    folder = need_shared() / request.param[0]
    url = databases.acquire()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "t"})
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = load_polis(db, folder, "conv", request.param[1])
        groups, info = groups_from_polis_export(db, a, folder)
        doc = json.loads(to_json(publish(db, build_draft(db, a, groups, info))))
    app.extensions["assembly_engine"].dispose()
    databases.release(url)
    return doc, build_dataset(DatasetInput(doc))


def test_every_usable_statement_is_trained_or_held_out_once(real):
    doc, ds = real
    tids = {int(e["tid"]) for p in doc["principles"] for e in p["statements"]}
    tids |= {e["tid"] for e in doc["excluded"] if e["reason"] not in ("moderated_out",)}
    stance = [r for r in ds.sft if r["kind"] != "principle"]
    trained = [r["source"]["tids"][0] for r in stance]
    held = [h["tid"] for h in ds.heldout]
    assert len(set(trained)) == len(trained) and not set(trained) & set(held)
    skipped = ds.report["statements"].get("too_few_votes", 0)
    assert len(trained) + len(held) + skipped == len(tids)
    assert set(held) <= {t for t in tids if is_heldout("conv", t, 0.2)} | {
        int(e["tid"]) for p in doc["principles"] for e in p["statements"]}


def test_no_divisive_statement_is_answered_with_a_majority_view(real):
    doc, ds = real
    divisive = {e["tid"] for e in doc["excluded"] if e["reason"] == "divisive"}
    by_tid = {r["source"]["tids"][0]: r for r in ds.sft if r["kind"] != "principle"}
    for tid in divisive & set(by_tid):
        assert by_tid[tid]["kind"] == "divisive", tid
        assert by_tid[tid]["completion"].lstrip().startswith(("意見分歧", "Opinions differ"))


def test_bridging_pairs_hold_for_every_group_on_real_votes(real):
    _, ds = real
    pairs = [p for p in ds.preference if p["kind"] == "bridging"]
    assert pairs
    for p in pairs:
        chosen, rejected = p["source"]["figures"]
        for gc, gr in zip(chosen["groups"], rejected["groups"], strict=True):
            assert gc["agree"] / gc["seen"] >= gr["agree"] / gr["seen"] + 0.1


def test_principles_keep_the_citizens_words(real):
    doc, ds = real
    words = {p["text"] for p in doc["principles"]}
    principles = [r for r in ds.sft if r["kind"] == "principle"]
    assert principles and all(any(w in r["completion"] for w in words) for r in principles)
