"""Fine-tuning pages, JSON API and CLI over HTTP (Flask client), jobs in Huey's immediate mode, tiny test model.

Covers: dataset review and download, the train form and its refusals (unknown base model, no
published constitution, bad method or steps, empty dataset), the run page, the registry with
public/private visibility, the archive and its sha256, lineage, incremental runs, the JSON API and
`flask finetune list --json | show | generate`, and that refusals leave no row and no file behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from sqlmodel import Session, select

from assembly.adapters.models import Adapter, Dataset, Generation, TrainingRun
from assembly.auth import create_facilitator
from assembly.models import Assembly, Facilitator
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
    yield app, client
    app.extensions["assembly_engine"].dispose()


def rows(app, model):
    with Session(app.extensions["assembly_engine"]) as db:
        return list(db.exec(select(model)))


def files_under(app, sub: str) -> list[str]:
    root = app.config["FINETUNE_DIR"] + "/" + sub
    import pathlib

    return sorted(str(p) for p in pathlib.Path(root).rglob("*") if p.is_file()) if pathlib.Path(root).exists() else []


def test_dataset_review_shows_counts_samples_and_downloads(ft):
    app, client = ft
    r = client.get("/facilitate/planted/dataset")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    ds = rows(app, Dataset)[0]
    report = json.loads(ds.report_json)
    assert f">{report['counts']['sft_total']}<" in page and "Held out" in page and "Samples" in page
    assert ds.constitution_number == 1 and len(ds.vote_snapshot_hash) == 64
    jsonl = client.get(f"/facilitate/planted/datasets/{ds.id}/sft.jsonl")
    assert jsonl.status_code == 200
    records = [json.loads(line) for line in jsonl.get_data(as_text=True).splitlines()]
    assert len(records) == report["counts"]["sft_total"] and all("source" in rec for rec in records)
    assert "<script>" not in page  # statement 7's text is escaped wherever it shows
    client.get("/facilitate/planted/dataset")
    assert len(rows(app, Dataset)) == 1  # the same version builds the same dataset once


def test_pages_need_the_owner(ft):
    app, _client = ft
    anonymous = app.test_client()
    assert anonymous.get("/facilitate/planted/train").status_code == 302
    with Session(app.extensions["assembly_engine"]) as db:
        create_facilitator(db, "other@example.org", "another password!", "Other")
    other = app.test_client()
    other.post("/auth/login", data={"email": "other@example.org", "password": "another password!"})
    assert other.get("/facilitate/planted/dataset").status_code == 403
    assert other.post("/facilitate/planted/train", data=FAST).status_code == 403
    assert rows(app, TrainingRun) == []


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"base_model": "no-such-model"}, 422, "unknown base model"),
    ({"method": "rlhf"}, 422, "method must be one of"),
    ({"steps": "0"}, 422, "steps must be between"),
    ({"steps": "many"}, 422, "steps must be a whole number"),
    ({"version": "7"}, 404, "no published constitution version 7"),
    ({"name": "latest"}, 422, "reserved"),
    ({"name": "bad name!"}, 422, "an adapter name is"),
    ({"parent": "ghost"}, 422, "no adapter planted/ghost"),
])
def test_train_form_refuses_bad_input_and_writes_nothing(ft, form, status, message):
    app, client = ft
    r = client.post("/facilitate/planted/train", data={**FAST, **form})
    assert r.status_code == status
    assert message in r.get_data(as_text=True)
    assert rows(app, TrainingRun) == [] and rows(app, Adapter) == []
    assert files_under(app, "adapters") == [] and files_under(app, "runs") == []


def test_unpublished_constitution_is_a_clear_409(ft):
    app, client = ft
    with Session(app.extensions["assembly_engine"]) as db:
        owner = db.exec(select(Facilitator)).first()
        db.add(Assembly(slug="fresh", title="Fresh", owner_id=owner.id))
        db.commit()
    for path in ("/facilitate/fresh/dataset", "/facilitate/fresh/train"):
        r = client.get(path) if path.endswith("dataset") else client.post(path, data=FAST)
        assert r.status_code == 409
        assert "no published constitution yet" in r.get_data(as_text=True)
    api = client.post("/api/assemblies/fresh/training-runs", json={"base_model": TINY})
    assert api.status_code == 409 and "publish one before training" in api.get_json()["error"]
    assert rows(app, Dataset) == [] and rows(app, TrainingRun) == []


def test_train_run_page_registry_archive_and_lineage(ft):
    app, client = ft
    r = client.post("/facilitate/planted/train", data={**FAST, "name": "first"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="done"' in page and "4/4" in page and "<polyline" in page
    assert "hx-trigger" not in page  # a finished run stops polling
    run = rows(app, TrainingRun)[0]
    assert run.base_model_sha256 and json.loads(run.library_versions_json)["peft"]
    assert len(json.loads(run.loss_curve_json)) == 4 and run.wall_time_s > 0

    detail = client.get("/a/planted/adapters/first").get_data(as_text=True)
    for link in ("adapter", "training run", "dataset", "constitution version", "clustering run", "vote snapshot"):
        assert f"<strong>{link}</strong>" in detail
    ds = rows(app, Dataset)[0]
    assert ds.sha256 in detail and ds.vote_snapshot_hash in detail and ds.constitution_hash in detail
    assert "library_name: peft" in detail  # the model card

    archive = client.get("/a/planted/adapters/first.tar.gz")
    body = archive.get_data()
    adapter = rows(app, Adapter)[0]
    assert hashlib.sha256(body).hexdigest() == adapter.archive_sha256 == archive.headers["X-Checksum-Sha256"]
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
    assert "planted-first/adapter_config.json" in names and "planted-first/adapter_model.safetensors" in names


def test_private_adapters_are_visible_only_to_the_owner(ft):
    app, client = ft
    client.post("/facilitate/planted/train", data={**FAST, "name": "hidden", "private": "1"})
    anonymous = app.test_client()
    assert anonymous.get("/a/planted/adapters/hidden").status_code == 404
    assert anonymous.get("/a/planted/adapters/hidden.tar.gz").status_code == 404
    assert "hidden" not in anonymous.get("/a/planted/adapters").get_data(as_text=True)
    assert anonymous.get("/api/assemblies/planted/adapters").get_json() == {"adapters": []}
    assert anonymous.get("/api/assemblies/planted/adapters/hidden").status_code == 404
    assert client.get("/a/planted/adapters/hidden").status_code == 200
    listed = client.get("/api/adapters").get_json()["adapters"]
    assert [a["repo_id"] for a in listed] == ["planted/hidden"] and listed[0]["private"] is True
    client.post("/a/planted/adapters/hidden/visibility", data={"private": "0"})
    assert anonymous.get("/a/planted/adapters/hidden").status_code == 200


def test_incremental_run_records_its_parent(ft):
    app, client = ft
    client.post("/facilitate/planted/train", data={**FAST, "name": "base-run"})
    r = client.post("/facilitate/planted/train", data={**FAST, "name": "follow-up", "parent": "base-run"})
    assert r.status_code == 302
    parent, child = sorted(rows(app, Adapter), key=lambda a: a.id)
    run = next(x for x in rows(app, TrainingRun) if x.id == child.run_id)
    assert run.parent_adapter_id == parent.id and run.status == "done"
    assert "continued from planted/base-run" in client.get("/a/planted/adapters/follow-up").get_data(as_text=True)


def test_api_starts_lists_and_shows(ft):
    app, _client = ft
    with Session(app.extensions["assembly_engine"]) as db:
        from assembly.auth import issue_token

        token = issue_token(db, db.exec(select(Facilitator)).first(), "api")
    api = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/assemblies/planted/training-runs", json={"base_model": TINY}).status_code == 401
    bad = api.post("/api/assemblies/planted/training-runs", json={"base_modle": TINY}, headers=h)
    assert bad.status_code == 422 and "unknown field" in bad.get_json()["error"]
    r = api.post("/api/assemblies/planted/training-runs", json={"base_model": TINY, "steps": 3, "name": "api"},
                 headers=h)
    assert r.status_code == 202, r.get_json()
    run = r.get_json()
    assert run["status"] == "done" and run["adapter"] == "planted/api"
    shown = api.get("/api/assemblies/planted/adapters/api").get_json()
    assert shown["repo_id"] == "planted/api" and shown["provenance"]["constitution_version"] == 1
    assert {f["path"] for f in shown["files"]} >= {"adapter_config.json", "adapter_model.safetensors", "README.md"}
    assert api.get(f"/api/assemblies/planted/training-runs/{run['id']}", headers=h).get_json()["step"] == 3


def test_cli_list_show_and_generate(ft):
    app, client = ft
    client.post("/facilitate/planted/train", data={**FAST, "name": "one"})
    client.post("/facilitate/planted/train", data={**FAST, "name": "two"})
    runner = app.test_cli_runner()
    out = runner.invoke(args=["finetune", "list", "planted", "--json"])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)
    assert [a["repo_id"] for a in listed] == ["planted/two", "planted/one"]  # newest first
    shown = runner.invoke(args=["finetune", "show", "planted/one"])
    assert json.loads(shown.output)["name"] == "one"
    assert runner.invoke(args=["finetune", "show", "planted/none"]).exit_code != 0
    gen = runner.invoke(args=["finetune", "generate", "planted/one", "Statement: Parks.\nAnswer:",
                              "--max-new-tokens", "5"])
    assert gen.exit_code == 0, gen.output
    assert "--- base model" in gen.output and "--- with planted/one" in gen.output
    row = rows(app, Generation)[0]
    assert row.base_answer != row.adapter_answer or row.base_answer  # both written by the job
    empty = runner.invoke(args=["finetune", "generate", "planted/one", "   "])
    assert empty.exit_code != 0 and "write a prompt first" in empty.output


def test_try_it_page_shows_both_answers(ft):
    _app, client = ft
    client.post("/facilitate/planted/train", data={**FAST, "name": "tryme"})
    r = client.post("/facilitate/planted/adapters/tryme/try", data={"prompt": "Statement: Trees.\nAnswer:"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-answer="base"' in page and 'data-answer="adapter"' in page
    assert client.post("/facilitate/planted/adapters/tryme/try", data={"prompt": ""}).status_code == 422


def test_cli_train_foreground_with_progress_bar(ft):
    app, _client = ft
    out = app.test_cli_runner().invoke(args=["finetune", "train", "planted", "--base-model", TINY, "--steps", "3",
                                             "--name", "cli", "--foreground"])
    assert out.exit_code == 0, out.output
    assert out.output.strip().endswith("planted/cli")
    bad = app.test_cli_runner().invoke(args=["finetune", "train", "planted", "--base-model", "nope"])
    assert bad.exit_code != 0 and "unknown base model" in bad.output


def test_corrupt_checkpoint_is_a_clear_failure_then_resume_starts_the_stage_again(ft):
    """A run whose every checkpoint is unreadable fails saying so; resuming trains the stage from step 0."""
    app, _client = ft
    import pathlib

    from assembly.adapters import runs

    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        from assembly.adapters import datasets

        a = db.exec(select(Assembly).where(Assembly.slug == "planted")).one()
        ds = datasets.dataset_for(app, db, a, datasets.published_version(db, a, None))
        run = runs.create(app, db, a, ds, base_model=TINY, steps=3, name="ckpt")
        folder = pathlib.Path(app.config["FINETUNE_DIR"]) / "runs" / str(run.id) / "sft" / "checkpoint-2"
        folder.mkdir(parents=True)
        (folder / "trainer_state.json").write_text("{not json")
        runs.enqueue_run(db, run)
        db.refresh(run)
        assert run.status == "failed" and "corrupt" in run.error
        assert db.exec(select(Adapter)).all() == []
        runs.resume(db, run)
        db.refresh(run)
        assert run.status == "done" and run.attempts == 2


def test_worker_start_removes_registry_files_without_a_row(ft):
    """Files a worker killed between moving an adapter into place and committing its row are removed."""
    app, client = ft
    import pathlib

    from assembly.adapters import registry

    client.post("/facilitate/planted/train", data={**FAST, "name": "kept"})
    root = pathlib.Path(app.config["FINETUNE_DIR"]) / "adapters" / "1"
    (root / "ghost").mkdir()
    (root / "ghost" / "adapter_config.json").write_text("{}")
    (root / "ghost.tar.gz").write_bytes(b"x")
    registry.sweep_at_start(app)
    assert sorted(p.name for p in root.iterdir()) == ["kept", "kept.tar.gz"]
