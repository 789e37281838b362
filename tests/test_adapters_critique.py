"""The critique stage through the platform: the form's checkbox, the API field, refusals and a run.

A base model without a chat template (the default Gemma 270M, the tiny test model) is refused
before anything is written, with the reason; a chat model (the tiny test model with a chat
template) needs a principle the dataset trains on; the stage's mechanics are tested on the tiny
model in tests/test_finetune_critique.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assembly.adapters.models import TrainingRun
from finetune.tiny_model import build_tiny_test_model
from tests.adapters_support import FAST, TINY, published_assembly
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def ft(database_url, tmp_path):
    app = make_app(database_url, FINETUNE_DIR=str(tmp_path / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": FACILITATOR_PASSWORD})
    yield app, client, tmp_path
    app.extensions["assembly_engine"].dispose()


def runs_of(app) -> list[TrainingRun]:
    with Session(app.extensions["assembly_engine"]) as db:
        return list(db.exec(select(TrainingRun)))


@pytest.mark.parametrize("base", [TINY, "gemma-3-270m"])
def test_critique_on_a_base_model_is_refused_with_the_reason_and_writes_nothing(ft, base):
    app, client, _ = ft
    r = client.post("/facilitate/planted/train", data={**FAST, "base_model": base, "critique": "1"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "without a chat template" in page and "smollm2-135m-instruct" in page
    api = client.post("/api/assemblies/planted/training-runs", json={"base_model": base, "critique": True})
    assert api.status_code == 422 and "only a chat (instruction-tuned) model" in api.get_json()["error"]
    assert runs_of(app) == [] and not (Path(app.config["FINETUNE_DIR"]) / "runs").exists()


def test_critique_needs_a_principle_the_dataset_trains_on(ft):
    app, client, tmp = ft
    chat = build_tiny_test_model(tmp / "tiny-chat", chat=True)
    with Session(app.extensions["assembly_engine"]) as db:
        from assembly.adapters.models import Dataset

        client.get("/facilitate/planted/dataset")
        report = json.loads(db.exec(select(Dataset)).one().report_json)
    assert not report["counts"]["sft"].get("principle")  # the planted assembly's principles are held out
    r = client.post("/facilitate/planted/train", data={**FAST, "base_model": str(chat), "critique": "1"})
    assert r.status_code == 409 and "nothing to critique answers against" in r.get_data(as_text=True)
    assert runs_of(app) == []
