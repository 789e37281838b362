"""A TrainerCallback that reports progress, records the loss curve and honours cancel requests.

`on_progress(dict)` gets, after every optimiser step and every log: stage, step, max_steps,
overall_step, overall_max_steps, loss, tokens_seen, tokens_per_s, elapsed_s, eta_s and, on logs, a
`log` line. `should_stop()` is polled after every step; when it returns True the callback asks the
Trainer to save a checkpoint and stop, so a cancelled run can resume later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback


class ProgressCallback(TrainerCallback):
    """Progress, loss curve and cancel for one training stage (step offsets give overall progress)."""

    def __init__(self, stage: str, on_progress: Callable[[dict[str, Any]], None] | None,
                 should_stop: Callable[[], bool] | None, step_offset: int = 0, overall_max: int | None = None):
        self.stage = stage
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.step_offset = step_offset
        self.overall_max = overall_max
        self.cancelled = False
        self.curve: list[dict[str, Any]] = []  # {stage, step, loss, tokens_seen}
        self._t0 = 0.0
        self._step0 = 0
        self._tokens0 = 0
        self.last_tokens_per_s = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._t0 = time.monotonic()
        self._step0 = state.global_step  # > 0 when resumed: speed counts this session only
        self._tokens0 = state.num_input_tokens_seen
        self._emit(state, log=f"{self.stage}: {'resumed at' if self._step0 else 'starting,'} step "
                              f"{self._step0}/{state.max_steps}")

    def on_step_end(self, args, state, control, **kwargs):
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True  # a checkpoint to resume from
        self._emit(state)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self.curve.append({"stage": self.stage, "step": state.global_step, "loss": float(logs["loss"]),
                               "tokens_seen": int(state.num_input_tokens_seen)})
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in logs.items())
        self._emit(state, log=f"{self.stage} step {state.global_step}: {shown}")

    def on_save(self, args, state, control, **kwargs):
        self._emit(state, log=f"{self.stage}: checkpoint saved at step {state.global_step}")

    def _emit(self, state, log: str | None = None) -> None:
        elapsed = time.monotonic() - self._t0
        done = state.global_step - self._step0
        tokens = state.num_input_tokens_seen - self._tokens0
        self.last_tokens_per_s = tokens / elapsed if elapsed > 0 else 0.0
        if self.on_progress is None:
            return
        left = state.max_steps - state.global_step
        loss = self.curve[-1]["loss"] if self.curve else None
        self.on_progress({
            "stage": self.stage, "step": state.global_step, "max_steps": state.max_steps,
            "overall_step": self.step_offset + state.global_step,
            "overall_max_steps": self.overall_max or state.max_steps,
            "loss": loss, "tokens_seen": int(state.num_input_tokens_seen),
            "tokens_per_s": round(self.last_tokens_per_s, 1), "elapsed_s": round(elapsed, 1),
            "eta_s": round(elapsed / done * left, 1) if done > 0 else None, "log": log,
        })
