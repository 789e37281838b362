"""Eval scoring speed: the platform's scorer against lm-evaluation-harness's HFLM on the same items.

Both score the planted assembly's held-out statements (consensus suite, zh-Hant-TW and English,
3 option-order rotations x 3 options per item) with the same base model; the platform's score is
checked to equal lm-eval's. Also the safety floor (platform only). Prints items/s and the ratio.

    .venv/bin/python -m benchmarks.evals [--model gemma-3-270m] [--threads 2]

(as a module: run as a file, benchmarks/finetune.py would shadow the finetune package)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "alignment-assembly"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from finetune.data import DatasetInput, build_dataset
    from finetune.evals.lmeval_export import export_suite, task_name
    from finetune.evals.scoring import load_scorers
    from finetune.evals.source import source_from_dataset
    from finetune.evals.suites import get
    from finetune.testing import planted_constitution

    doc = planted_constitution("zh-Hant-TW")
    ds = build_dataset(DatasetInput(constitution=doc, heldout_share=0.5))
    source = source_from_dataset("bench", ds.language, ds.heldout, doc, ds.groups, languages=("en",))
    suite = get("consensus")
    items = suite.items(source)
    (scorer,), info = load_scorers(args.model, None, args.cache, batch_size=args.batch_size)

    t = time.perf_counter()
    ours = suite.evaluate(items, scorer)
    platform_s = time.perf_counter() - t
    import numpy as np

    ours_rep = ours.metrics["representativeness"](np.arange(len(items)))

    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    with tempfile.TemporaryDirectory() as tmp:
        export_suite(suite, items, "bench", Path(tmp))
        t = time.perf_counter()
        out = simple_evaluate(model="hf", model_args=f"pretrained={info['base']['local_dir']},dtype=float32",
                              tasks=[task_name("bench", "consensus")], batch_size=args.batch_size, device="cpu",
                              task_manager=TaskManager(include_path=tmp))
        lmeval_s = time.perf_counter() - t
    theirs_rep = out["results"][task_name("bench", "consensus")]["representativeness,none"]

    safety = get("safety")
    safety_items = safety.items(source)
    t = time.perf_counter()
    safety.evaluate(safety_items, scorer)
    safety_s = time.perf_counter() - t

    n_req = sum(len(it.variants()) * len(it.options) for it in items)
    print(json.dumps({
        "model": args.model, "threads": args.threads, "batch_size": args.batch_size,
        "consensus_items": len(items), "requests": n_req,
        "platform_items_per_s": round(len(items) / platform_s, 2),
        "lm_eval_items_per_s_including_model_load": round(len(items) / lmeval_s, 2),
        "ratio_platform_over_lm_eval": round(lmeval_s / platform_s, 2),
        "representativeness_platform": ours_rep, "representativeness_lm_eval": theirs_rep,
        "abs_difference": abs(ours_rep - theirs_rep),
        "safety_items": len(safety_items), "safety_items_per_s": round(len(safety_items) / safety_s, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
