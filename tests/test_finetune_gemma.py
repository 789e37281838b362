"""The real default base model, gemma-3-270m: conversion, a few training steps, same logits after reload (slow).

The converted folder is cached in $ALIGNMENT_ASSEMBLY_CACHE or ~/.cache/alignment-assembly (1.1 GB,
converted once, ~26-95 s; conversion is atomic and locked, so parallel workers and an interrupted run
are safe), the same folder the platform uses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finetune.base_models import load, resolve
from finetune.config import TrainConfig
from finetune.data import DatasetInput, build_dataset
from finetune.generate import logits
from finetune.testing import planted_constitution
from finetune.train import train

pytestmark = pytest.mark.slow
CACHE = Path(os.environ.get("ALIGNMENT_ASSEMBLY_CACHE", Path.home() / ".cache" / "alignment-assembly"))


@pytest.fixture(scope="session")
def gemma():
    """gemma-3-270m converted to dense safetensors (once per machine)."""
    return resolve("gemma-3-270m", CACHE)


def test_the_default_converts_to_a_dense_model_trainer_accepts(gemma):
    model, tok = load(gemma)
    assert type(model).__name__ == "Gemma3ForCausalLM"
    assert 260e6 < sum(p.numel() for p in model.parameters()) < 280e6
    assert getattr(model, "hf_quantizer", None) is None and not getattr(model, "is_quantized", False)
    assert "quantization_config" not in json.loads((gemma.local_dir / "config.json").read_text())
    assert next(model.parameters()).dtype.is_floating_point and len(tok) > 260_000
    assert tok.decode(tok("你同意這個陳述嗎？").input_ids, skip_special_tokens=True) == "你同意這個陳述嗎？"
    assert gemma.license == "gemma" and gemma.hub_id == "google/gemma-3-270m" and len(gemma.weights_sha256) == 64


def test_a_few_steps_on_the_default_give_an_adapter_that_reloads_with_the_same_logits(gemma, tmp_path):
    ds = build_dataset(DatasetInput(planted_constitution("zh-Hant-TW")))
    cfg = TrainConfig(max_steps=2, batch_size=2, max_length=128, save_steps=2, report_to=["none"])
    res = train(gemma, ds, cfg, tmp_path / "run")
    assert res.status == "completed" and len(res.loss_curve) == 2 and res.tokens_per_s > 0
    adapter = Path(res.adapter_dir)
    card = (adapter / "README.md").read_text()
    assert "base_model: google/gemma-3-270m" in card and "ai.google.dev/gemma/terms" in card
    text = ds.sft[0]["prompt"] + ds.sft[0]["completion"]
    with_adapter = logits(gemma, adapter, text)
    assert (with_adapter == logits(gemma, tmp_path / "run" / "sft" / "checkpoint-2", text)).all()
    assert not (with_adapter == logits(gemma, None, text)).all()
