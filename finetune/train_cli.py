"""Command-line entry for one training run, for workers and for `accelerate launch` (multi-GPU).

    python -m finetune.train_cli --dataset DATASET_DIR --out RUN_DIR [--base gemma-3-270m]
        [--cache-dir DIR] [--method sft|dpo|sft+dpo] [--steps N] [--set KEY=JSON ...]
    accelerate launch --num_processes 4 -m finetune.train_cli --dataset ... --out ...

DATASET_DIR is a folder written by TrainingDataset.write_jsonl. Progress is printed as one JSON
object per line (main process only); the TrainResult as the last line. Run it again with the
same --out to resume after a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from finetune.base_models import DEFAULT_BASE_MODEL, resolve
from finetune.config import TrainConfig
from finetune.data import TrainingDataset
from finetune.errors import FinetuneError
from finetune.train import train


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; --set takes any TrainConfig field as KEY=JSON (e.g. lora_r=8, report_to='[\"none\"]')."""
    p = argparse.ArgumentParser(prog="python -m finetune.train_cli", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True, type=Path, help="folder written by TrainingDataset.write_jsonl")
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoints and the final adapter/")
    p.add_argument("--base", default=DEFAULT_BASE_MODEL, help="registered name, local folder or hub id")
    p.add_argument("--cache-dir", type=Path, default=Path(os.environ.get(
        "ALIGNMENT_ASSEMBLY_CACHE", Path.home() / ".cache" / "alignment-assembly")),
        help="where converted base models live (default: $ALIGNMENT_ASSEMBLY_CACHE or ~/.cache/alignment-assembly)")
    p.add_argument("--method", choices=["sft", "dpo", "sft+dpo"])
    p.add_argument("--steps", type=int, help="max_steps per stage")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="any other TrainConfig field")
    p.add_argument("--no-resume", action="store_true", help="discard checkpoints in --out and start over")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run training; exit 0 on completion or cancel, 2 with the message on a FinetuneError."""
    args = parse(argv)
    main_process = os.environ.get("RANK", "0") == "0"
    try:
        settings = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise FinetuneError(f"--set wants KEY=JSON, got {item!r}")
            try:
                settings[key] = json.loads(value)
            except json.JSONDecodeError:
                settings[key] = value  # a bare string such as method=sft
        if args.method:
            settings["method"] = args.method
        if args.steps:
            settings["max_steps"] = args.steps
        cfg = TrainConfig.from_dict(settings)
        base = resolve(args.base, args.cache_dir)
        dataset = TrainingDataset.read_jsonl(args.dataset)
        result = train(base, dataset, cfg, args.out, on_progress=_printer() if main_process else None)
    except FinetuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if main_process:
        print(json.dumps({"result": result.to_dict()}, ensure_ascii=False), flush=True)
    return 0


def _printer():
    def show(update: dict) -> None:
        print(json.dumps(update, ensure_ascii=False), flush=True)
    return show


if __name__ == "__main__":
    sys.exit(main())
