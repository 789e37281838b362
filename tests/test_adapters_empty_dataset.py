"""An empty dataset (a published constitution with no usable SFT record) is refused with 409 and writes nothing.

The planted assembly's published version is rewritten so that no statement has enough votes and
no principle is left: the dataset builder then has nothing to train on. The JSON API and the train
form must both answer 409 with the builder's message, and add no Dataset, TrainingRun or Job row
and no file under the fine-tuning folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from assembly.adapters.models import Dataset, TrainingRun
from assembly.models import Job
from assembly.models_constitution import ConstitutionVersion
from tests.adapters_support import FAST, published_assembly
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def empty(database_url, tmp_path):
    app = make_app(database_url, FINETUNE_DIR=str(tmp_path / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    a = published_assembly(app)
    with Session(app.extensions["assembly_engine"]) as db:
        v = db.exec(select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == a.id,
                                                      ConstitutionVersion.number == 1)).one()
        doc = json.loads(v.document)
        doc["principles"] = []
        doc["process"]["consensus"]["min_votes"] = 10_000  # every statement is "too few votes"
        # A published version refuses ORM updates; a Core UPDATE stands in for a thin assembly's constitution.
        db.execute(update(ConstitutionVersion.__table__).where(ConstitutionVersion.__table__.c.id == v.id)
                   .values(document=json.dumps(doc)))
        db.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": FACILITATOR_PASSWORD})
    yield app, client
    app.extensions["assembly_engine"].dispose()


def counts(app) -> tuple[int, int, int]:
    with Session(app.extensions["assembly_engine"]) as db:
        return tuple(len(list(db.exec(select(m)))) for m in (Dataset, TrainingRun, Job))


def files(app) -> list[Path]:
    root = Path(app.config["FINETUNE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_api_refuses_an_empty_dataset_with_409_and_writes_nothing(empty):
    app, client = empty
    before = counts(app)
    token = client.get("/api/csrf-token").get_json()["csrf_token"]
    r = client.post("/api/assemblies/planted/training-runs", json={"base_model": FAST["base_model"], "steps": 4},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 409, r.get_data(as_text=True)
    assert "nothing to train on" in r.get_json()["error"]
    assert counts(app) == before and before[1] == 0
    assert files(app) == []


def test_train_form_refuses_an_empty_dataset_with_409_and_writes_nothing(empty):
    app, client = empty
    before = counts(app)
    r = client.post("/facilitate/planted/train", data=FAST)
    assert r.status_code == 409
    assert "nothing to train on" in r.get_data(as_text=True)
    assert counts(app) == before and before[1] == 0
    assert files(app) == []
