"""Benchmark finetune/: the platform's training against plain trl + peft, same model, data and machine, one run.

    python benchmarks/finetune.py                      # gemma-3-270m, the vTaiwan demo dataset (zh-Hant)
    python benchmarks/finetune.py --steps 4 --base tiny-test-gemma3
    python benchmarks/finetune.py --part demo-wall     # wall time of the demo adapter at the default steps
    python benchmarks/finetune.py --constitution EXPORT.json

Plain trl + peft is SFTTrainer with trl's documented SFTConfig defaults (gradient checkpointing on,
no packing, max_length 1024, padding per batch) in fp32 on CPU, the same LoraConfig, learning rate and
batch size. The platform run trains first; the plain run then trains until it has seen as many
(non-padding) tokens. Each side runs in its own subprocess so its peak memory (RSS) is its own.
Printed: tokens/s, peak memory, their ratio, and each side's loss at equal tokens seen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("ALIGNMENT_ASSEMBLY_CACHE", Path.home() / ".cache" / "alignment-assembly"))
PLAIN_BATCH = 4  # records per step for plain trl, fixed: the platform's default may change, the peer's must not
POLIS = Path(os.environ.get("POLIS_OPENDATA", ROOT.parent / "shared" / "polis-opendata"))


def vtaiwan_constitution() -> dict:
    """The vTaiwan demo's constitution (Polis's own groups), built once through the platform and cached."""
    cached = CACHE / "bench" / "vtaiwan-constitution.json"
    if cached.exists():
        return json.loads(cached.read_text(encoding="utf-8"))
    from sqlmodel import Session

    from app import create_app
    from assembly.constitution.build import build_draft
    from assembly.constitution.export import to_json
    from assembly.constitution.groups import groups_from_polis_export
    from assembly.constitution.versions import publish
    from assembly.migrate import upgrade
    from tests.constitution_loader import load_polis

    folder = POLIS / "vtaiwan.uberx"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        engine = app.extensions["assembly_engine"]
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as db:
            a = load_polis(db, folder, "vtaiwan-uberx", "zh-Hant-TW")
            a.title, a.question = "vTaiwan: UberX", "UberX 自用車載客應該如何規範？"
            db.add(a)
            db.commit()
            groups, info = groups_from_polis_export(db, a, folder)
            doc = json.loads(to_json(publish(db, build_draft(db, a, groups, info))))
        engine.dispose()
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return doc


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args) -> dict:
    """One side of the comparison, in this (fresh) process; prints a JSON line with its figures."""
    from finetune.base_models import load, resolve
    from finetune.config import TrainConfig
    from finetune.data import TrainingDataset

    base = resolve(args.base, CACHE)
    ds = TrainingDataset.read_jsonl(Path(args.dataset))
    cfg = TrainConfig(max_steps=args.steps, report_to=["none"], save_steps=10_000)
    if args.worker == "platform" and args.batch_size:
        cfg.batch_size = args.batch_size
    out = Path(args.out)
    if args.worker == "platform":
        from finetune.train import train

        res = train(base, ds, cfg, out, resume=False)
        curve, tokens, secs = res.loss_curve, res.tokens_seen, res.wall_time_s
        from peft import PeftModel

        model, tok = load(base)
        model = PeftModel.from_pretrained(model, res.adapter_dir)
    else:
        from datasets import Dataset
        from peft import LoraConfig
        from transformers import TrainerCallback
        from trl import SFTConfig, SFTTrainer

        class UntilTokens(TrainerCallback):
            def on_step_end(self, a, state, control, **kw):
                if state.num_input_tokens_seen >= args.until_tokens:
                    control.should_training_stop = True

        model, tok = load(base)
        rows = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in ds.sft])
        # The same learning-rate schedule over the same tokens: linear decay that ends where the platform's
        # run ended (its token count over the mean record length per batch), with the same warm-up share.
        mean_tokens = sum(len(tok(r["prompt"] + r["completion"]).input_ids) for r in rows) / len(rows)
        steps = max(1, math.ceil(args.until_tokens / (PLAIN_BATCH * mean_tokens)))
        sft_args = SFTConfig(output_dir=str(out), max_steps=steps,
                             warmup_steps=math.ceil(cfg.warmup_ratio * steps),
                             per_device_train_batch_size=PLAIN_BATCH,
                             learning_rate=cfg.learning_rate, bf16=False, use_cpu=True, report_to="none",
                             logging_steps=1, save_strategy="no", seed=cfg.seed,
                             include_num_input_tokens_seen="non_padding", disable_tqdm=True)
        lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                          target_modules=cfg.target_modules, task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=model, args=sft_args, train_dataset=rows, processing_class=tok,
                             peft_config=lora, callbacks=[UntilTokens()])
        t0 = time.monotonic()
        trainer.train()
        secs = time.monotonic() - t0
        tokens = trainer.state.num_input_tokens_seen
        curve = [{"step": h["step"], "loss": h["loss"], "tokens_seen": h["num_input_tokens_seen"]}
                 for h in trainer.state.log_history if "loss" in h]
        model = trainer.model
    return {"side": args.worker, "tokens": tokens, "seconds": secs, "tokens_per_s": tokens / secs,
            "peak_rss_mb": peak_rss_mb(), "curve": curve, "steps": len(curve),
            "eval_loss": completion_loss(model, tok, ds.sft)}


def completion_loss(model, tok, records: list[dict]) -> float:
    """Mean loss over the completion tokens of every SFT record, each scored alone (no packing, no padding).

    The same measure for both sides' final adapters, so "equal loss" does not depend on which
    records happened to fall in the last logged batches."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for r in records:
            prompt = tok(r["prompt"]).input_ids
            ids = tok(r["prompt"] + r["completion"]).input_ids
            labels = torch.tensor([-100] * len(prompt) + ids[len(prompt):])[None]
            out = model(input_ids=torch.tensor(ids)[None], labels=labels, use_cache=False)
            n = int((labels[:, 1:] != -100).sum())
            total, count = total + out.loss.item() * n, count + n
    return total / count


def loss_at(curve: list[dict], tokens: float) -> float:
    """Mean loss of the logged steps whose token count lies in the last quarter before `tokens` (less noise)."""
    window = [c["loss"] for c in curve if 0.75 * tokens <= c["tokens_seen"] <= tokens * 1.02]
    return sum(window) / len(window) if window else float("nan")


def run_side(side: str, args, dataset: Path, out: Path, until: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--worker", side, "--base", args.base, "--dataset", str(dataset),
           "--out", str(out), "--steps", str(args.steps), "--until-tokens", str(until),
           "--batch-size", str(args.batch_size)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{\"side\"")]
    if proc.returncode or not lines:
        raise SystemExit(f"{side} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def machine() -> str:
    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")


def compare(args) -> None:
    from finetune.data import DatasetInput, build_dataset

    ds = build_dataset(DatasetInput(json.loads(Path(args.constitution).read_text()) if args.constitution
                                    else vtaiwan_constitution()))
    with tempfile.TemporaryDirectory() as tmp:
        ds.write_jsonl(Path(tmp) / "ds")
        print(f"dataset: {ds.report['counts']}  machine: {machine()}", flush=True)
        mine = run_side("platform", args, Path(tmp) / "ds", Path(tmp) / "platform")
        plain = run_side("plain", args, Path(tmp) / "ds", Path(tmp) / "plain", until=mine["tokens"])
    equal = min(mine["tokens"], plain["tokens"])
    print(f"\n{args.base}, {mine['steps']} platform steps / {plain['steps']} plain steps, {equal} tokens each\n")
    print("| run | tokens/s | peak RSS (MB) | tokens | wall (s) | training loss, last quarter | "
          "completion loss of the final adapter, all records |")
    print("|---|---|---|---|---|---|---|")
    for r in (mine, plain):
        print(f"| {r['side']} | {r['tokens_per_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['tokens']} | "
              f"{r['seconds']:.0f} | {loss_at(r['curve'], equal):.3f} | {r['eval_loss']:.3f} |")
    print(f"\nratio (platform / plain): tokens/s {mine['tokens_per_s'] / plain['tokens_per_s']:.2f}x, "
          f"peak memory {mine['peak_rss_mb'] / plain['peak_rss_mb']:.2f}x")


def demo_wall(args) -> None:
    """Train the demo adapter with the default TrainConfig (only report_to off) and time it end to end."""
    from finetune.base_models import resolve
    from finetune.config import TrainConfig
    from finetune.data import DatasetInput, build_dataset
    from finetune.train import train

    t0 = time.monotonic()
    base = resolve(args.base, CACHE)
    ds = build_dataset(DatasetInput(vtaiwan_constitution()))
    steps = args.steps or TrainConfig().max_steps
    with tempfile.TemporaryDirectory() as tmp:
        res = train(base, ds, TrainConfig(max_steps=steps, report_to=["none"]), Path(tmp) / "run",
                    on_progress=lambda u: u.get("log") and print(u["log"], flush=True))
    print(f"\ndemo adapter: {steps} steps, {res.tokens_seen} tokens, training {res.wall_time_s:.0f} s, "
          f"end to end {time.monotonic() - t0:.0f} s, {res.tokens_per_s} tokens/s, loss "
          f"{res.loss_curve[0]['loss']:.3f} -> {res.loss_curve[-1]['loss']:.3f}; {machine()}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=["compare", "demo-wall"], default="compare")
    p.add_argument("--base", default="gemma-3-270m")
    p.add_argument("--steps", type=int, default=6, help="platform steps (compare), or steps of demo-wall")
    p.add_argument("--batch-size", type=int, default=0,
                   help="platform's packed blocks per step (default: TrainConfig's); plain trl keeps 4 records")
    p.add_argument("--constitution", help="a constitution export JSON instead of the vTaiwan demo")
    p.add_argument("--worker", choices=["platform", "plain"], help=argparse.SUPPRESS)
    p.add_argument("--dataset", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--until-tokens", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args)), flush=True)
    elif args.part == "compare":
        compare(args)
    else:
        if args.steps == 6:
            args.steps = 0  # demo-wall defaults to TrainConfig's steps
        demo_wall(args)


if __name__ == "__main__":
    main()
