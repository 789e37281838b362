"""finetune.train on the tiny test model: SFT, DPO, reload, cancel, resume after SIGKILL, bad input."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finetune import train as train_mod
from finetune.base_models import TINY_TEST_MODEL, load, resolve
from finetune.config import TrainConfig
from finetune.data import DatasetInput, TrainingDataset, build_dataset
from finetune.errors import CorruptCheckpointError, DiskFullError, EmptyDatasetError, InvalidConfigError
from finetune.generate import generate, logits
from finetune.testing import planted_constitution
from finetune.train import train

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """The tiny random Gemma 3 test model, built once per test process."""
    return resolve(TINY_TEST_MODEL, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def dataset():
    """The planted zh-Hant-TW dataset."""
    return build_dataset(DatasetInput(planted_constitution("zh-Hant-TW")))


def stop_after(n: int):
    """A should_stop that asks to stop at the end of optimiser step n (it is polled once per step)."""
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= n
    return should_stop


def small(**kw) -> TrainConfig:
    """A few fast steps with a learning rate that moves a random model visibly."""
    base = dict(max_steps=6, batch_size=2, max_length=128, learning_rate=5e-3, dpo_learning_rate=5e-3,
                lora_r=4, lora_alpha=8, lora_dropout=0.0, save_steps=2, report_to=["none"], warmup_ratio=0.0)
    return TrainConfig(**{**base, **kw})


def test_sft_trains_writes_a_hugging_face_adapter_and_reloads_with_the_same_logits(tiny, dataset, tmp_path):
    updates = []
    res = train(tiny, dataset, small(), tmp_path / "run", on_progress=updates.append,
                provenance={"dataset_id": 3}, community={"title": "Planted", "constitution_url": "http://x/v/1"})
    assert res.status == "completed"
    adapter = Path(res.adapter_dir)
    for f in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "README.md", "training.json"):
        assert (adapter / f).is_file(), f
    assert not (adapter / "training_args.bin").exists()
    losses = [c["loss"] for c in res.loss_curve]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert [c["step"] for c in res.loss_curve] == [1, 2, 3, 4, 5, 6]
    assert res.tokens_seen > 0 and res.tokens_per_s > 0 and res.wall_time_s > 0
    assert res.dataset_sha256 == dataset.sha256 and res.provenance["dataset_id"] == 3
    assert res.provenance["constitution_hash"] == dataset.provenance["constitution_hash"]
    assert res.base_model["weights_sha256"] == tiny.weights_sha256 and res.config["seed"] == 0
    assert {"torch", "transformers", "peft", "trl"} <= set(res.library_versions)
    assert json.loads((adapter / "training.json").read_text())["status"] == "completed"
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == TINY_TEST_MODEL
    steps = [u["step"] for u in updates if "step" in u]
    assert max(steps) == 6 and all(u["max_steps"] == 6 for u in updates if "max_steps" in u)
    assert any(u.get("eta_s") is not None for u in updates) and any(u.get("log") for u in updates)
    _, tok = load(tiny)
    long = sum(len(tok(r["prompt"] + r["completion"]).input_ids) > 128 for r in dataset.sft)
    assert res.truncated == ({"sft": long} if long else {})
    assert not long or any("longer than max_length=128" in (u.get("log") or "") for u in updates)

    text = dataset.sft[0]["prompt"] + dataset.sft[0]["completion"]
    with_adapter = logits(tiny, adapter, text)
    # the last checkpoint holds the same weights: an independent PeftModel.from_pretrained load
    assert (with_adapter == logits(tiny, tmp_path / "run" / "sft" / "checkpoint-6", text)).all()
    assert not (with_adapter == logits(tiny, None, text)).all()
    assert generate(tiny, adapter, dataset.sft[0]["prompt"], max_new_tokens=5) == \
        generate(tiny, adapter, dataset.sft[0]["prompt"], max_new_tokens=5)


def test_dpo_uses_the_preference_pairs(tiny, dataset, tmp_path):
    res = train(tiny, dataset, small(method="dpo", max_steps=4), tmp_path / "run")
    assert res.status == "completed" and (Path(res.adapter_dir) / "adapter_model.safetensors").is_file()
    assert len(res.loss_curve) == 4 and res.loss_curve[0]["loss"] == pytest.approx(0.693, abs=0.01)  # log 2 at start
    assert res.loss_curve[-1]["loss"] < res.loss_curve[0]["loss"]
    assert "dpo" in (Path(res.adapter_dir) / "README.md").read_text()


def test_sft_then_dpo_continues_the_sft_adapter(tiny, dataset, tmp_path):
    res = train(tiny, dataset, small(method="sft+dpo", max_steps=2), tmp_path / "run")
    assert [c["stage"] for c in res.loss_curve] == ["sft", "sft", "dpo", "dpo"]
    assert (tmp_path / "run" / "stages" / "sft" / "adapter_config.json").is_file()
    assert res.status == "completed"


def test_incremental_run_continues_a_parent_adapter(tiny, dataset, tmp_path):
    first = train(tiny, dataset, small(max_steps=2), tmp_path / "v1")
    second = train(tiny, dataset, small(max_steps=2, parent_adapter=first.adapter_dir), tmp_path / "v2")
    assert second.config["parent_adapter"] == first.adapter_dir and second.status == "completed"
    record = json.loads((Path(first.adapter_dir) / "training.json").read_text())
    record["base_model"]["weights_sha256"] = "0" * 64
    (Path(first.adapter_dir) / "training.json").write_text(json.dumps(record))
    with pytest.raises(InvalidConfigError, match="other base weights"):
        train(tiny, dataset, small(parent_adapter=first.adapter_dir), tmp_path / "v3")


def test_cancel_keeps_a_checkpoint_and_resume_finishes(tiny, dataset, tmp_path):
    res = train(tiny, dataset, small(save_steps=100), tmp_path / "run", should_stop=stop_after(3))
    assert res.status == "cancelled" and res.adapter_dir is None
    assert not (tmp_path / "run" / "adapter").exists()
    assert (tmp_path / "run" / "sft" / "checkpoint-3" / "adapter_model.safetensors").is_file()
    done = train(tiny, dataset, small(save_steps=100), tmp_path / "run")
    assert done.status == "completed" and done.resumed_from == [str(tmp_path / "run" / "sft" / "checkpoint-3")]
    assert [c["step"] for c in done.loss_curve] == [1, 2, 3, 4, 5, 6]  # the curve survives the resume


def test_resume_after_the_training_process_is_killed(tiny, dataset, tmp_path):
    """A worker killed with SIGKILL mid-run: the next run resumes from its last checkpoint."""
    dataset.write_jsonl(tmp_path / "ds")
    cache = tiny.local_dir.parent.parent
    settings = ["--set", "batch_size=2", "--set", "max_length=128", "--set", "save_steps=2",
                "--set", 'report_to=["none"]', "--set", "lora_r=4"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "finetune.train_cli", "--dataset", str(tmp_path / "ds"), "--out", str(tmp_path / "run"),
         "--base", TINY_TEST_MODEL, "--cache-dir", str(cache), "--steps", "30", *settings],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    ckpt = tmp_path / "run" / "sft" / "checkpoint-4" / "trainer_state.json"
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), "the training subprocess never reached a checkpoint"
    assert not (tmp_path / "run" / "adapter").exists(), "the subprocess finished before it could be killed"
    cfg = TrainConfig(max_steps=30, batch_size=2, max_length=128, save_steps=2, report_to=["none"], lora_r=4)
    res = train(tiny, dataset, cfg, tmp_path / "run")
    assert res.status == "completed" and res.resumed_from and "checkpoint-" in res.resumed_from[0]
    resumed_at = int(res.resumed_from[0].rsplit("-", 1)[1])
    assert resumed_at >= 4 and res.loss_curve[-1]["step"] == 30
    assert [c["step"] for c in res.loss_curve] == list(range(1, 31))
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()


def test_a_corrupt_checkpoint_falls_back_to_the_one_before_then_fails_clearly(tiny, dataset, tmp_path):
    cfg = small(save_steps=2, save_total_limit=3)
    train(tiny, dataset, cfg, tmp_path / "run", should_stop=stop_after(4))
    sft = tmp_path / "run" / "sft"
    (sft / "checkpoint-4" / "adapter_model.safetensors").write_bytes(b"\x00garbage")
    logs = []
    res = train(tiny, dataset, cfg, tmp_path / "run", on_progress=lambda u: logs.append(u.get("log") or ""))
    assert res.resumed_from == [str(sft / "checkpoint-2")] and res.status == "completed"
    assert any("checkpoint-4 is corrupt" in line for line in logs)
    assert (sft / "corrupt-checkpoint-4").is_dir()

    train(tiny, dataset, cfg, tmp_path / "run2", should_stop=stop_after(2))
    (tmp_path / "run2" / "sft" / "checkpoint-2" / "trainer_state.json").write_text("{not json")
    with pytest.raises(CorruptCheckpointError, match="every checkpoint"):
        train(tiny, dataset, cfg, tmp_path / "run2")
    assert not (tmp_path / "run2" / "adapter").exists()


def test_a_full_disk_leaves_no_adapter(tiny, dataset, tmp_path, monkeypatch):
    def full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train_mod.shutil, "copy2", full)  # the final adapter's files are copied last
    with pytest.raises(DiskFullError, match="disk"):
        train(tiny, dataset, small(max_steps=2), tmp_path / "run")
    assert not (tmp_path / "run" / "adapter").exists()
    assert not [p for p in (tmp_path / "run").iterdir() if ".tmp-" in p.name]


def test_empty_datasets_are_refused(tiny, dataset, tmp_path):
    empty = TrainingDataset(sft=[], preference=[], heldout=[], report={}, provenance={}, language="en", groups=[])
    with pytest.raises(EmptyDatasetError, match="no SFT records"):
        train(tiny, empty, small(), tmp_path / "run")
    no_pairs = TrainingDataset(sft=dataset.sft, preference=[], heldout=[], report=dataset.report,
                               provenance=dataset.provenance, language="en", groups=[])
    with pytest.raises(EmptyDatasetError, match="preference pairs"):
        train(tiny, no_pairs, small(method="sft+dpo"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("bad, match", [
    ({"method": "rlhf"}, "method"), ({"max_steps": 0}, "max_steps"), ({"learning_rate": 3}, "learning_rate"),
    ({"lora_dropout": 1.5}, "lora_dropout"), ({"report_to": ["neptune"]}, "report_to"),
    ({"target_modules": []}, "target_modules"), ({"stepz": 3}, "unknown training setting"),
])
def test_bad_settings_name_the_setting(bad, match):
    with pytest.raises(InvalidConfigError, match=match):
        TrainConfig.from_dict(bad)
