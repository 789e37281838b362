"""TrainConfig: every training setting with its default and why, validated at entry.

Defaults fit a 2-core CPU machine and a ~270M model: fp32 and no gradient checkpointing on CPU
(checkpointing saves memory a small model does not need and costs ~20-30% of the time), packing
of SFT sequences into fixed-length blocks (no compute spent on padding), LoRA on every attention
and MLP projection. On CUDA the same code trains in bf16.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from finetune.errors import InvalidConfigError

METHODS = ("sft", "dpo", "sft+dpo")
REPORTERS = ("tensorboard", "wandb", "mlflow", "none")


@dataclass
class TrainConfig:
    """Training settings (one run); `from_dict` rejects unknown keys and wrong values."""

    method: str = "sft"  # sft | dpo | sft+dpo (SFT, then DPO from the SFT adapter)
    max_steps: int = 60  # optimiser steps per stage (~30k tokens); ~10-15 min per stage for gemma-3-270m on 2 cores
    learning_rate: float = 2e-4  # LoRA's usual rate; trl's 2e-5 default is meant for full fine-tuning
    dpo_learning_rate: float = 5e-5  # DPO moves the policy against a reference: a gentler rate
    dpo_beta: float = 0.1  # trl's default strength of the pull towards the reference
    lora_r: int = 16
    lora_alpha: int = 32  # alpha = 2r: the common LoRA scaling
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    batch_size: int = 2  # packed blocks per device and step: 2 x 256 tokens ~ plain trl's 4 unpadded records
    grad_accumulation: int = 1
    max_length: int = 256  # records are short (a statement and its figures); packing fills blocks of this size
    packing: bool = True  # SFT only; trl's best-fit packing with per-sequence attention
    seed: int = 0
    warmup_ratio: float = 0.05
    logging_steps: int = 1  # every step is one point on the loss curve and one progress update
    save_steps: int = 10  # checkpoint every N steps so a killed worker loses at most N steps
    save_total_limit: int = 2  # keep the newest two, so a corrupt newest one falls back to the other
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    parent_adapter: str | None = None  # continue from this adapter folder (incremental runs)
    gradient_checkpointing: bool | None = None  # None: off on CPU, on for CUDA models over 1B parameters
    dataloader_num_workers: int = 0  # tokenised data is in memory; workers only cost start-up time

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InvalidConfigError naming the first setting out of range."""
        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                raise InvalidConfigError(f"{name} must be {rule}, got {getattr(self, name)!r}")

        need(self.method in METHODS, "method", " | ".join(METHODS))
        for name in ("max_steps", "lora_r", "lora_alpha", "batch_size", "grad_accumulation", "logging_steps",
                     "save_steps", "save_total_limit"):
            need(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, name, "an integer >= 1")
        need(isinstance(self.max_length, int) and self.max_length >= 16, "max_length", "an integer >= 16")
        for name in ("learning_rate", "dpo_learning_rate", "dpo_beta"):
            need(isinstance(getattr(self, name), (int, float)) and 0 < getattr(self, name) < 1, name, "in (0, 1)")
        need(0 <= self.lora_dropout < 1, "lora_dropout", "in [0, 1)")
        need(0 <= self.warmup_ratio < 1, "warmup_ratio", "in [0, 1)")
        need(isinstance(self.seed, int) and self.seed >= 0, "seed", "an integer >= 0")
        need(bool(self.target_modules) and all(isinstance(m, str) and m for m in self.target_modules),
             "target_modules", "a non-empty list of module names")
        need(all(r in REPORTERS for r in self.report_to), "report_to", "a list from " + ", ".join(REPORTERS))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict (form, API body, CLI), refusing unknown keys by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidConfigError(f"unknown training setting(s): {', '.join(unknown)}; "
                                     f"known: {', '.join(sorted(known))}")
        try:
            return cls(**d)
        except TypeError as exc:
            raise InvalidConfigError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for run records and the model card."""
        return asdict(self)
