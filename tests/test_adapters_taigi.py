"""Taigi on request: the facilitator adds Taigi language records to any assembly's training data
(form, CLI `--taigi/--no-taigi`, API `taigi`), or leaves them out of a Taigi assembly's, and the
run's provenance and the model card say which and why (docs/language.md)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from assembly.adapters import registry
from assembly.adapters.models import Adapter, Dataset, TrainingRun
from assembly.auth import issue_token
from assembly.models import Assembly, Facilitator
from finetune.taigi_data import LANGUAGE_KINDS
from tests.adapters_support import FAST, TINY, published_assembly
from tests.conftest import log_in, make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def ft(database_url, tmp_path):
    app = make_app(database_url, FINETUNE_DIR=str(tmp_path / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)  # an English assembly: no Taigi records unless asked for
    client = app.test_client()
    with Session(app.extensions["assembly_engine"]) as db:
        log_in(client, db.exec(select(Facilitator)).first().id)
    yield app, client
    app.extensions["assembly_engine"].dispose()


def rows(app, model):
    with Session(app.extensions["assembly_engine"]) as db:
        return list(db.exec(select(model)))


def taigi_counts(ds: Dataset) -> dict[str, int]:
    sft = json.loads(ds.report_json)["counts"]["sft"]
    return {k: n for k, n in sft.items() if k in LANGUAGE_KINDS}


def set_language(app, language: str) -> None:
    with Session(app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "planted")).one()
        a.language = language
        db.add(a)
        db.commit()


def card(app, name: str) -> str:
    with Session(app.extensions["assembly_engine"]) as db:
        adapter = db.exec(select(Adapter).where(Adapter.name == name)).one()
        return registry.read_text(app, adapter, "README.md")


def test_dataset_page_adds_taigi_records_only_when_ticked(ft):
    app, client = ft
    plain = client.get("/facilitate/planted/dataset").get_data(as_text=True)
    assert 'name="taigi" value="1" >' in plain  # unticked for an English assembly
    asked = client.get("/facilitate/planted/dataset?taigi=1&taigi=0")  # ticked box, then the hidden no
    assert asked.status_code == 200
    assert 'name="taigi" value="1" checked' in asked.get_data(as_text=True)
    by_taigi = {bool(taigi_counts(ds)): ds for ds in rows(app, Dataset)}
    assert set(by_taigi) == {False, True}  # two datasets: the records change the data
    assert set(taigi_counts(by_taigi[True])) == {"taigi-reading", "mandarin-taigi"}
    assert by_taigi[True].n_records > by_taigi[False].n_records
    assert "請共這个台語詞寫做台羅拼音" in asked.get_data(as_text=True)  # a sample is shown for review
    bad = client.get("/facilitate/planted/dataset?taigi=perhaps")
    assert bad.status_code == 422 and "taigi must be yes or no" in bad.get_data(as_text=True)
    assert len(rows(app, Dataset)) == 2


def test_train_form_box_trains_with_taigi_and_the_card_says_it_was_asked_for(ft):
    app, client = ft
    form = client.get("/facilitate/planted/train").get_data(as_text=True)
    assert 'name="taigi" value="1" >' in form and "Teach Taigi" in form
    r = client.post("/facilitate/planted/train", data={**FAST, "steps": "2", "name": "taigi", "taigi": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    run = rows(app, TrainingRun)[0]
    ds = next(d for d in rows(app, Dataset) if d.id == run.dataset_id)
    assert taigi_counts(ds)["taigi-reading"] >= 200
    text = card(app, "taigi")
    assert "## Taigi language records" in text and "Included because: requested by the facilitator." in text
    assert "CC BY-ND 3.0 TW" in text and "taigi_records_why: `requested by the facilitator`" in text
    r = client.post("/facilitate/planted/train", data={**FAST, "steps": "2", "name": "plain"})  # box unticked
    assert r.status_code == 302
    plain = card(app, "plain")
    assert "## Taigi language records" not in plain and "taigi_records: `0`" in plain


def test_api_taigi_is_a_validated_boolean_recorded_in_provenance(ft):
    app, _client = ft
    with Session(app.extensions["assembly_engine"]) as db:
        token = issue_token(db, db.exec(select(Facilitator)).first(), "api")
    api, h = app.test_client(), {"Authorization": f"Bearer {token}"}
    for bad in ("yes", 1, None, [True]):
        r = api.post("/api/assemblies/planted/training-runs", json={"base_model": TINY, "taigi": bad}, headers=h)
        assert r.status_code == 422 and "taigi must be true or false" in r.get_json()["error"], bad
    assert rows(app, Dataset) == [] and rows(app, TrainingRun) == []  # refused before anything is built
    r = api.post("/api/assemblies/planted/training-runs", json={"base_model": TINY, "steps": 2, "name": "api",
                                                                 "taigi": True}, headers=h)
    assert r.status_code == 202, r.get_json()
    prov = api.get("/api/assemblies/planted/adapters/api").get_json()["provenance"]
    assert prov["taigi_records"] >= 200 and prov["taigi_records_why"] == "requested by the facilitator"


def test_cli_taigi_flags_ask_for_and_decline_the_records(ft):
    app, _client = ft
    cli = app.test_cli_runner()
    out = cli.invoke(args=["finetune", "train", "planted", "--base-model", TINY, "--steps", "2", "--name", "asked",
                           "--taigi", "--foreground"])
    assert out.exit_code == 0, out.output
    assert "Included because: requested by the facilitator." in card(app, "asked")
    set_language(app, "nan-Hant-TW")  # a Taigi assembly gets them by default; --no-taigi declines them
    out = cli.invoke(args=["finetune", "train", "planted", "--base-model", TINY, "--steps", "2", "--name", "declined",
                           "--no-taigi", "--foreground"])
    assert out.exit_code == 0, out.output
    declined = card(app, "declined")
    assert "## Taigi language records" not in declined
    assert "taigi_records_why: `declined by the facilitator`" in declined
    out = cli.invoke(args=["finetune", "train", "planted", "--base-model", TINY, "--steps", "2", "--name", "auto",
                           "--foreground"])
    assert out.exit_code == 0, out.output
    assert "Included because: the assembly's language is Taigi." in card(app, "auto")
    assert "--taigi / --no-taigi" in cli.invoke(args=["finetune", "train", "--help"]).output
