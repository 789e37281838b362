"""Find the checkpoint to resume from, and refuse (or skip) one a crash left half-written.

A worker killed with SIGKILL while the Trainer writes `checkpoint-N` leaves a folder missing files
or holding truncated ones. `latest_valid` checks each checkpoint, newest first, and moves an
unreadable one aside to `corrupt-checkpoint-N` (kept for inspection, invisible to the Trainer's
rotation), falling back to the one before. When every checkpoint is unreadable it raises
CorruptCheckpointError naming the folder, rather than silently starting over; the next start then
begins the stage from step 0.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from finetune.errors import CorruptCheckpointError

_NAME = re.compile(r"^checkpoint-(\d+)$")
REQUIRED = ("trainer_state.json", "adapter_model.safetensors", "adapter_config.json", "optimizer.pt", "scheduler.pt")


def checkpoints(stage_dir: Path) -> list[Path]:
    """checkpoint-N folders in `stage_dir`, newest (highest N) first."""
    if not stage_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in stage_dir.iterdir() if p.is_dir() and (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def problem(ckpt: Path) -> str | None:
    """Why `ckpt` cannot be resumed from, or None when it can (every file present and readable)."""
    import torch
    from safetensors import safe_open

    missing = [f for f in REQUIRED if not (ckpt / f).is_file()]
    if missing:
        return "missing " + ", ".join(missing)
    try:
        state = json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))
        json.loads((ckpt / "adapter_config.json").read_text(encoding="utf-8"))
        if int(state["global_step"]) != int(_NAME.match(ckpt.name).group(1)):
            return f"trainer_state.json says step {state['global_step']}"
        with safe_open(str(ckpt / "adapter_model.safetensors"), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open is not a dict
                fh.get_tensor(key)
        torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=True)
        torch.load(ckpt / "scheduler.pt", map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file means this checkpoint cannot be trusted
        return f"unreadable ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def latest_valid(stage_dir: Path, log=print) -> Path | None:
    """Newest readable checkpoint in `stage_dir`; None when there is none at all."""
    found = checkpoints(stage_dir)
    for ckpt in found:
        why = problem(ckpt)
        if why is None:
            return ckpt
        aside = ckpt.with_name("corrupt-" + ckpt.name)
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(ckpt, aside)
        log(f"checkpoint {ckpt.name} is corrupt ({why}); moved to {aside.name}, trying the one before")
    if found:
        raise CorruptCheckpointError(
            f"every checkpoint in {stage_dir} is corrupt ({len(found)} moved to corrupt-checkpoint-*); "
            "nothing to resume from: start the run again to train this stage from step 0")
    return None
