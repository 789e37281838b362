"""Export suites as lm-evaluation-harness task folders (YAML + JSONL + the metric hooks).

Run them with
``lm-eval run --model hf --model_args pretrained=BASE,peft=ADAPTER,dtype=float32 --tasks TASK
--include_path DIR``. lm-eval 0.4.13 resolves ``data_files`` against the working directory, so
the YAML names the JSONL by its absolute path: move the folder and export again.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from finetune.evals.items import EvalError, EvalItem
from finetune.evals.suites import Suite

HOOKS = Path(__file__).resolve().parent / "lmeval_utils.py"


def exportable(metric: str) -> bool:
    """Whether the standalone hooks can compute this metric (plugged-in suites may define others)."""
    from finetune.evals import lmeval_utils

    return callable(getattr(lmeval_utils, f"agg_{metric}", None))


def task_name(slug: str, suite: str) -> str:
    return "aa_" + re.sub(r"[^a-z0-9]+", "_", f"{slug}_{suite}".lower()).strip("_")


def _docs(items: list[EvalItem], metrics: list[str]) -> list[dict]:
    """One document per (item, rotation). What the metrics need travels as one JSON string,
    because the datasets JSON loader would merge differing group keys into nullable columns."""
    out = []
    for it in items:
        payload = json.dumps({
            "target": list(it.target) if it.target else None, "groups": {g: list(v) for g, v in it.groups.items()},
            "correct": it.correct, "kind": it.kind, "steered_to": it.meta.get("steered_to"),
            "base_id": it.id.split(":steer=")[0], "metrics": metrics, "per_char": it.per_char,
        }, ensure_ascii=False)
        for r, (context, _) in enumerate(it.variants()):
            out.append({"item_id": it.id, "rotation": r, "context": context, "choices": list(it.continuations),
                        "payload": payload})
    return out


def export_suite(suite: Suite, items: list[EvalItem], slug: str, root: Path) -> Path:
    """Write root/TASK/{TASK.yaml, TASK.jsonl, utils.py}; returns the task folder."""
    import yaml  # PyYAML, a dependency of lm-eval and of transformers

    if not items:
        raise EvalError(f"suite {suite.name!r} has no items to export")
    missing = [m.name for m in suite.metric_specs if not exportable(m.name)]
    if missing:
        raise EvalError(f"suite {suite.name!r}: lm-eval has no aggregation for {', '.join(missing)}")
    name = task_name(slug, suite.name)
    folder = Path(root).resolve() / name
    folder.mkdir(parents=True, exist_ok=True)
    metrics = [m.name for m in suite.metric_specs]
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in _docs(items, metrics)), encoding="utf-8")
    shutil.copyfile(HOOKS, folder / "utils.py")
    config = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "context",
        "doc_to_choice": "choices",
        "doc_to_target": 0,
        "target_delimiter": "",
        "process_results": "!function utils.process_results",
        "metric_list": [
            {"metric": m.name, "aggregation": f"!function utils.agg_{m.name}", "higher_is_better": m.higher_is_better}
            for m in suite.metric_specs
        ],
        "metadata": {"version": 1, "suite": suite.name, "assembly": slug, "items": len(items)},
    }
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    text = re.sub(r"'(!function [\w.]+)'", r"\1", text)  # the tag lm-eval's loader expects, unquoted
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder
