"""The /hf endpoint against the REAL Hugging Face client (huggingface_hub, and the `hf` CLI) on a live server.

An adapter is trained through the app (tiny test model, a few steps), the app is served over
HTTP on 127.0.0.1, and the standard client pulls it: snapshot_download and `hf download
--local-dir` get byte-identical files, a second snapshot_download makes one request and fetches
nothing, private adapters are a missing repository without the owner's token, and
PeftModel.from_pretrained on the pulled folder gives the platform's logits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select
from werkzeug.serving import make_server

from assembly.adapters import registry
from assembly.adapters.models import Adapter
from assembly.auth import issue_token
from assembly.models import Facilitator
from tests.adapters_support import FAST, published_assembly
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, make_app

HF_BIN = Path(sys.executable).with_name("hf")


class Counting:
    """WSGI middleware that records every request path the client makes."""

    def __init__(self, app) -> None:
        self.app, self.paths = app, []

    def __call__(self, environ, start_response):
        self.paths.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A live app with two adapters of `planted`: `pub` (public) and `secret` (private); and the owner's token."""
    tmp = tmp_path_factory.mktemp("hf")
    app = make_app(f"sqlite:///{tmp / 'hf.db'}", FINETUNE_DIR=str(tmp / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": FACILITATOR_PASSWORD})
    for name, private in (("pub", ""), ("secret", "1")):
        r = client.post("/facilitate/planted/train", data={**FAST, "name": name, "private": private})
        assert r.status_code == 302, r.get_data(as_text=True)
    with Session(app.extensions["assembly_engine"]) as db:
        assert {a.name for a in db.exec(select(Adapter))} == {"pub", "secret"}
        owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
        token = issue_token(db, owner, "hf test")
    counting = Counting(app)
    server = make_server("127.0.0.1", 0, counting, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"app": app, "endpoint": f"http://127.0.0.1:{server.server_port}/hf", "token": token,
           "counting": counting, "tmp": tmp}
    server.shutdown()
    app.extensions["assembly_engine"].dispose()


@pytest.fixture(autouse=True)
def _hub_env(monkeypatch, tmp_path):
    """An online client, as an engineer's: HF_HUB_OFFLINE unset.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, and the constitution's sentence model
    sets it (assembly/constitution/similarity.py) in any test process that built an English draft
    first, so the frozen constant is reset too.
    """
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_DISABLE_UPDATE_CHECK", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


def platform_files(app, name: str) -> dict[str, bytes]:
    with Session(app.extensions["assembly_engine"]) as db:
        adapter = db.exec(select(Adapter).where(Adapter.name == name)).one()
        folder = registry.adapter_dir(app, adapter)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def pulled_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in Path(folder).rglob("*")
            if p.is_file() and ".cache" not in p.parts}


def test_snapshot_download_gets_the_files_and_a_second_call_fetches_nothing(served, tmp_path):
    from huggingface_hub import snapshot_download

    cache = tmp_path / "cache"
    folder = snapshot_download(repo_id="planted/pub", endpoint=served["endpoint"], cache_dir=cache)
    files = platform_files(served["app"], "pub")
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= set(files)
    assert pulled_files(Path(folder)) == files
    served["counting"].paths.clear()
    again = snapshot_download(repo_id="planted/pub", endpoint=served["endpoint"], cache_dir=cache)
    assert again == folder
    assert served["counting"].paths == ["GET /hf/api/models/planted/pub/revision/main"]


def test_hf_cli_download_to_local_dir(served, tmp_path):
    env = {**os.environ, "HF_ENDPOINT": served["endpoint"], "HF_HUB_DISABLE_UPDATE_CHECK": "1",
           "HF_HOME": str(tmp_path / "home")}
    env.pop("HF_HUB_OFFLINE", None)
    out = tmp_path / "D"
    res = subprocess.run([str(HF_BIN), "download", "planted/pub", "--local-dir", str(out)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert pulled_files(out) == platform_files(served["app"], "pub")


def test_private_adapter_is_missing_without_the_owners_token(served, tmp_path):
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(repo_id="planted/secret", endpoint=served["endpoint"], cache_dir=tmp_path / "c1")
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(repo_id="planted/secret", endpoint=served["endpoint"], cache_dir=tmp_path / "c2",
                          token="aa_not-a-real-token")
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(repo_id="planted/nothing-here", endpoint=served["endpoint"], cache_dir=tmp_path / "c3")
    folder = snapshot_download(repo_id="planted/secret", endpoint=served["endpoint"], cache_dir=tmp_path / "c4",
                               token=served["token"])
    assert pulled_files(Path(folder)) == platform_files(served["app"], "secret")
    # A stranger's hub token on a public repository is ignored, as the hub does.
    public = snapshot_download(repo_id="planted/pub", endpoint=served["endpoint"], cache_dir=tmp_path / "c5",
                               token="hf_someone_elses_token")
    assert pulled_files(Path(public)) == platform_files(served["app"], "pub")


def test_unknown_revision_and_file_give_the_hub_errors(served, tmp_path):
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, RevisionNotFoundError

    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("planted/pub", "README.md", revision="0" * 40, endpoint=served["endpoint"],
                        cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("planted/pub", "no-such-file.bin", endpoint=served["endpoint"], cache_dir=tmp_path)


def test_latest_alias_serves_the_newest_visible_adapter(served, tmp_path):
    from huggingface_hub import snapshot_download

    anonymous = snapshot_download(repo_id="planted/latest", endpoint=served["endpoint"], cache_dir=tmp_path / "a")
    assert pulled_files(Path(anonymous)) == platform_files(served["app"], "pub")  # the private one is newer
    owner = snapshot_download(repo_id="planted/latest", endpoint=served["endpoint"], cache_dir=tmp_path / "b",
                              token=served["token"])
    assert pulled_files(Path(owner)) == platform_files(served["app"], "secret")


def test_pulled_adapter_gives_the_platforms_logits(served, tmp_path):
    import torch
    from huggingface_hub import snapshot_download
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from finetune.base_models import resolve
    from finetune.generate import logits

    app = served["app"]
    folder = snapshot_download(repo_id="planted/pub", endpoint=served["endpoint"], cache_dir=tmp_path)
    base = resolve("tiny-test-gemma3", registry.finetune_dir(app))
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base.local_dir), folder).eval()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    text = "Statement: Everyone should have access to clean drinking water.\nAnswer:"
    with torch.no_grad():
        pulled = model(**tok(text, return_tensors="pt")).logits
    with Session(app.extensions["assembly_engine"]) as db:
        adapter = db.exec(select(Adapter).where(Adapter.name == "pub")).one()
        platform = logits(base, registry.adapter_dir(app, adapter), text)
    without = logits(base, None, text)
    assert torch.equal(pulled, platform)
    assert not torch.equal(platform, without)  # the adapter changes the model
