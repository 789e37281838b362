"""LoRA training through trl (SFTTrainer / DPOTrainer with a peft LoraConfig): resumable, cancellable, atomic.

`train(base, dataset, cfg, out_dir)` lays out `out_dir` as:
    sft/checkpoint-N, dpo/checkpoint-N   Trainer checkpoints (resume after a crash), TensorBoard runs/
    stages/sft                           the finished SFT adapter of an sft+dpo run (DPO continues it)
    adapter/                             the final adapter in Hugging Face layout, written atomically
    adapter/training.json                the TrainResult: what the run used and measured
With peft and no ref_model, DPO's reference is the base model with the adapter switched off; when
DPO continues an adapter (sft+dpo, or a parent adapter), trl keeps a frozen copy of the starting
adapter as the reference, so DPO pulls towards the SFT model, as the recipe wants.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.base_models import BaseModel, load
from finetune.checkpoints import latest_valid
from finetune.config import TrainConfig
from finetune.data import TrainingDataset
from finetune.errors import DiskFullError, EmptyDatasetError, InvalidConfigError
from finetune.files import atomic_dir, is_disk_full, remove_stale_tmp

Progress = Callable[[dict[str, Any]], None]
LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets", "safetensors", "tokenizers")


@dataclass
class TrainResult:
    """What a run used and measured; written to adapter/training.json and shown on the registry page."""

    status: str  # "completed" or "cancelled" (then adapter_dir is None and checkpoints are kept)
    adapter_dir: str | None
    base_model: dict[str, Any]  # name, source, weights_sha256, license
    dataset_sha256: str
    provenance: dict[str, Any]  # constitution version/hash, clustering run, vote snapshot, and the caller's
    config: dict[str, Any]  # every hyperparameter, the seed included
    library_versions: dict[str, str]
    device: str
    loss_curve: list[dict[str, Any]] = field(default_factory=list)  # {stage, step, loss, tokens_seen}
    wall_time_s: float = 0.0  # this session's training time, load and save excluded
    tokens_seen: int = 0
    tokens_per_s: float = 0.0
    resumed_from: list[str] = field(default_factory=list)  # checkpoints this run continued from
    truncated: dict[str, int] = field(default_factory=dict)  # stage -> records longer than max_length
    dataset_report: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


def train(base: BaseModel, dataset: TrainingDataset, cfg: TrainConfig, out_dir: str | os.PathLike,
          on_progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
          resume: bool = True, provenance: dict[str, Any] | None = None,
          community: dict[str, Any] | None = None) -> TrainResult:
    """Train a LoRA adapter on `dataset` and write it to out_dir/adapter; resume from out_dir's checkpoints.

    `provenance` (ids the caller knows: dataset id, constitution version id...) is merged into the
    dataset's own; `community` (title, url of the constitution) goes into the model card.
    """
    cfg.validate()
    out = Path(out_dir)
    stages = ["sft", "dpo"] if cfg.method == "sft+dpo" else [cfg.method]
    if "sft" in stages and not dataset.sft:
        raise EmptyDatasetError("the dataset has no SFT records")
    if "dpo" in stages and not dataset.preference:
        raise EmptyDatasetError("the dataset has no preference pairs for DPO: use --method sft, or collect more votes")
    parent = _checked_parent(cfg.parent_adapter, base)
    if not resume:
        for name in ("sft", "dpo", "stages"):
            shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(out)
    remove_stale_tmp(out / "stages")
    result = TrainResult(
        status="running", adapter_dir=None,
        base_model={k: v for k, v in base.to_dict().items() if k != "local_dir"},
        dataset_sha256=dataset.sha256, provenance={**dataset.provenance, **(provenance or {})},
        config=cfg.to_dict(), library_versions=library_versions(), device=_device(),
        dataset_report={k: v for k, v in dataset.report.items() if k != "samples"})
    try:
        for i, stage in enumerate(stages):
            done = out / "stages" / stage
            if stage != stages[-1] and (done / "adapter_config.json").exists():
                continue  # an earlier stage finished before a crash
            start = out / "stages" / stages[i - 1] if i else parent
            cb = _run_stage(stage, base, dataset, cfg, out / stage, start, on_progress, should_stop,
                            i * cfg.max_steps, len(stages) * cfg.max_steps, result,
                            save_to=None if stage == stages[-1] else done)
            if cb.cancelled:
                result.status = "cancelled"
                return result
        result.status, result.adapter_dir = "completed", str(out / "adapter")
        with atomic_dir(out / "adapter") as tmp:
            _finish(tmp, out / "stages" / "final", result, base, dataset, community)
        shutil.rmtree(out / "stages" / "final", ignore_errors=True)
        return result
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as RuntimeError
        if is_disk_full(exc):
            raise DiskFullError(f"the disk filled up while training into {out}; the adapter was not written. "
                           "Free space and start the run again: it resumes from the last good checkpoint.") from exc
        raise


def _run_stage(stage, base, dataset, cfg, stage_dir, start_adapter, on_progress, should_stop, offset, overall,
               result, save_to):
    """One trl stage: build the trainer, resume from the newest valid checkpoint, train, save the adapter."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, PeftModel
    from transformers import PrinterCallback

    from finetune.progress import ProgressCallback

    _cpu_threads()
    model, tokenizer = load(base)
    peft_config = None
    if start_adapter is not None:  # continue an adapter: the parent's, or the SFT stage's for DPO
        model = PeftModel.from_pretrained(model, str(start_adapter), is_trainable=True)
        model.peft_config["default"].base_model_name_or_path = str(base.local_dir)  # saving looks it up
    else:
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
    cuda = torch.cuda.is_available()
    gc = cfg.gradient_checkpointing
    if gc is None:  # checkpointing trades ~25% time for memory a small model does not need
        gc = cuda and sum(p.numel() for p in model.parameters()) > 1_000_000_000
    common = dict(
        output_dir=str(stage_dir), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accumulation, warmup_steps=math.ceil(cfg.warmup_ratio * cfg.max_steps),
        logging_steps=cfg.logging_steps, save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit, seed=cfg.seed, data_seed=cfg.seed,
        report_to=[r for r in cfg.report_to if r != "none"] or "none", bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=False, use_cpu=not cuda, gradient_checkpointing=gc, dataloader_num_workers=cfg.dataloader_num_workers,
        include_num_input_tokens_seen="non_padding", disable_tqdm=True, max_length=cfg.max_length)
    if stage == "sft":
        from trl import SFTConfig, SFTTrainer

        rows = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in dataset.sft])
        args = SFTConfig(**common, learning_rate=cfg.learning_rate, packing=cfg.packing, packing_strategy="bfd")
        make = SFTTrainer
    else:
        from trl import DPOConfig, DPOTrainer

        rows = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in dataset.preference])
        lr = cfg.dpo_learning_rate if cfg.method == "sft+dpo" or start_adapter else cfg.learning_rate
        args = DPOConfig(**common, learning_rate=lr, beta=cfg.dpo_beta)
        make = DPOTrainer
    cb = ProgressCallback(stage, on_progress, should_stop, step_offset=offset, overall_max=overall)
    trainer = make(model=model, args=args, train_dataset=rows, processing_class=tokenizer,
                   peft_config=peft_config, callbacks=[cb])
    trainer.remove_callback(PrinterCallback)  # progress goes to on_progress, not to stdout
    log = (lambda line: on_progress({"stage": stage, "log": line})) if on_progress else print
    long = _too_long(tokenizer, rows, cfg.max_length)
    if long:
        result.truncated[stage] = long
        log(f"{stage}: {long} of {len(rows)} records are longer than max_length={cfg.max_length} tokens "
            "and are cut; raise max_length to keep them whole")
    ckpt = latest_valid(stage_dir, log=log)
    if ckpt is not None:
        result.resumed_from.append(str(ckpt))
    t0 = time.monotonic()
    trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    result.wall_time_s += time.monotonic() - t0
    result.loss_curve += _curve(trainer, stage)
    tokens = trainer.state.num_input_tokens_seen
    result.tokens_seen += tokens
    result.tokens_per_s = round(cb.last_tokens_per_s, 1)
    if not cb.cancelled:
        target = save_to or stage_dir.parent / "stages" / "final"
        with atomic_dir(target) as tmp:
            trainer.save_model(str(tmp))
            tokenizer.save_pretrained(str(tmp))
            (tmp / "training_args.bin").unlink(missing_ok=True)  # a pickle; the settings are in training.json
    return cb


def _too_long(tokenizer, rows, max_length: int) -> int:
    """How many records exceed max_length tokens (prompt + the longest answer): trl cuts them."""
    answers = ("completion",) if "completion" in rows.column_names else ("chosen", "rejected")
    return sum(max(len(tokenizer(r["prompt"] + r[a]).input_ids) for a in answers) > max_length for r in rows)


def _name_base(config_path: Path, base: BaseModel) -> None:
    """Name the base model in adapter_config.json by its name, not this machine's cache path.

    Done after saving: peft would otherwise try to fetch the name from the hub while saving.
    """
    cfg = json.loads(config_path.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = base.hub_id or base.name
    config_path.write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")


def _curve(trainer, stage) -> list[dict[str, Any]]:
    """The loss curve from the Trainer's log history (it survives a resume: it is in the checkpoint)."""
    return [{"stage": stage, "step": h["step"], "loss": float(h["loss"]),
             "tokens_seen": int(h.get("num_input_tokens_seen", 0))}
            for h in trainer.state.log_history if "loss" in h]


def _finish(tmp: Path, final: Path, result: TrainResult, base: BaseModel, dataset: TrainingDataset,
            community: dict[str, Any] | None) -> None:
    """Fill the adapter folder: the last stage's adapter and tokenizer, the run record, the model card."""
    from finetune.card import write_card

    for f in final.iterdir():
        if f.is_file():  # DPO on a loaded adapter also saves its frozen reference copy in ref/: not shipped
            shutil.copy2(f, tmp / f.name)
    _name_base(tmp / "adapter_config.json", base)
    (tmp / "training.json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    write_card(tmp, result.to_dict(), base, dataset, community or {})


def _checked_parent(parent: str | None, base: BaseModel) -> Path | None:
    """An incremental run's parent adapter must exist and come from the same base weights."""
    if parent is None:
        return None
    p = Path(parent)
    if not (p / "adapter_config.json").is_file():
        raise InvalidConfigError(f"parent_adapter {parent!r} is not an adapter folder (no adapter_config.json)")
    record = p / "training.json"
    if record.is_file():
        sha = json.loads(record.read_text(encoding="utf-8"))["base_model"]["weights_sha256"]
        if sha != base.weights_sha256:
            raise InvalidConfigError(f"parent_adapter {parent!r} was trained on other base weights ({sha[:12]}…), "
                                f"not {base.name} ({base.weights_sha256[:12]}…)")
    return p


def _cpu_threads() -> None:
    """Use every core this process may run on, unless the user set OMP_NUM_THREADS."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ and hasattr(os, "sched_getaffinity"):
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu:{platform.processor() or platform.machine()} x{os.cpu_count()}"


def library_versions() -> dict[str, str]:
    """Versions of the libraries a run depends on, and Python's."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
