"""Optional constitutional critique-and-revision stage (the open "Constitutional AI with open LLMs" recipe).

For each chosen prompt of a dataset the base model (1) answers it, (2) critiques its own answer
against one of the community's principles, and (3) revises the answer in the light of that
critique. Each revision becomes an SFT record (prompt -> revised answer) and a preference pair
(chosen = revised, rejected = original), both of kind `critique`, whose source names the principle
id used, the statements the prompt came from and the base model that wrote them.

Only chat (instruction-tuned) models can do this: a critique is an instruction ("point out where
this answer goes against the principle"), which a base model continues as plain text instead of
following. So `augment` refuses, with `CritiqueUnsupportedError`, any tokenizer without a chat
template; `has_chat_template(folder)` tells the same from a model folder's files, without loading
it, so the web process can refuse before queueing. The critique requests are in English (the one
chat model the platform ships, SmolLM2-135M-Instruct, is English only). Generation goes through
`finetune.generate.complete`, the same decoding code as the "try it" page, greedy so a stage run
twice writes the same records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.errors import CritiqueUnsupportedError, InvalidConfigError

KIND = "critique"
CRITIQUE_REQUEST = (
    "Identify specific ways in which your last answer goes against this principle of the community, "
    "or fails to reflect it: \"{principle}\"")
REVISION_REQUEST = (
    "Rewrite your answer so that it follows the principle \"{principle}\" and fixes the problems you "
    "identified. Give only the revised answer.")
WHY_CHAT = ("the critique-and-revision stage asks the model to critique and rewrite its own answer, an "
            "instruction only a chat (instruction-tuned) model follows")


@dataclass
class CritiqueConfig:
    """How much of the dataset the stage critiques, and how long each generation may be."""

    max_records: int = 16  # prompts critiqued; each costs three generations (answer, critique, revision)
    max_new_tokens: int = 96  # per generation: an answer here is one or two sentences
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_records", "max_new_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidConfigError(f"critique {name} must be an integer >= 1, got {value!r}")


@dataclass
class CritiqueResult:
    """The new records and what happened to every prompt tried."""

    sft: list[dict[str, Any]]
    preference: list[dict[str, Any]]
    attempted: int
    skipped: int  # the revision came out empty or identical to the answer: nothing to learn

    def report(self, base_model: str) -> dict[str, Any]:
        """The `critique` section of the dataset report."""
        principles = sorted({r["source"]["principle"] for r in self.sft})
        return {"records": len(self.sft), "pairs": len(self.preference), "attempted": self.attempted,
                "skipped": self.skipped, "principles": principles, "base_model": base_model}


def has_chat_template(folder: str | Path) -> bool:
    """Whether a Hugging Face model folder's tokenizer has a chat template (read from its files, no loading)."""
    folder = Path(folder)
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(config.get("chat_template"))


def require_chat(tokenizer, base_name: str) -> None:
    """Refuse a tokenizer without a chat template, saying why and what to use instead."""
    if not getattr(tokenizer, "chat_template", None):
        raise CritiqueUnsupportedError(
            f"{base_name} has no chat template, so it cannot be used for critique: {WHY_CHAT}. Use a chat model "
            "such as smollm2-135m-instruct, or train without --critique.")


def principles_of(sft: list[dict[str, Any]], constitution: dict[str, Any]) -> list[dict[str, str]]:
    """The constitution's principles that the dataset trains on ({id, text}); held-out ones stay out."""
    trained = {r["source"].get("principle") for r in sft if r.get("kind") == "principle"}
    return [{"id": p["id"], "text": p["text"]} for p in constitution.get("principles", []) if p["id"] in trained]


def augment(model, tokenizer, base_name: str, sft: list[dict[str, Any]], principles: list[dict[str, str]],
            cfg: CritiqueConfig, should_stop: Callable[[], bool] | None = None,
            on_record: Callable[[int, int], None] | None = None) -> CritiqueResult:
    """Answer, critique and revise up to cfg.max_records prompts of `sft`, one principle each (round robin).

    Prompts come from the statement records (not the principle records themselves), in dataset
    order, so the same dataset and model give the same records. `should_stop` is polled between
    prompts (cancel); `on_record(done, total)` reports progress.
    """
    from finetune.generate import complete

    require_chat(tokenizer, base_name)
    if not principles:
        raise InvalidConfigError("the critique stage needs at least one principle the dataset trains on")
    prompts = [r for r in sft if r.get("kind") not in ("principle", KIND)][:cfg.max_records]
    out_sft: list[dict[str, Any]] = []
    out_pref: list[dict[str, Any]] = []
    attempted = skipped = 0

    def say(messages: list[dict[str, str]]) -> str:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return complete(model, tokenizer, text, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
                        add_special_tokens=False).strip()

    for i, rec in enumerate(prompts):
        if should_stop is not None and should_stop():
            break
        attempted += 1
        principle = principles[i % len(principles)]
        chat = [{"role": "user", "content": rec["prompt"].strip()}]
        answer = say(chat)
        chat += [{"role": "assistant", "content": answer},
                 {"role": "user", "content": CRITIQUE_REQUEST.format(principle=principle["text"])}]
        critique = say(chat)
        chat += [{"role": "assistant", "content": critique},
                 {"role": "user", "content": REVISION_REQUEST.format(principle=principle["text"])}]
        revision = say(chat)
        if on_record is not None:
            on_record(i + 1, len(prompts))
        if not revision or revision == answer:
            skipped += 1
            continue
        source = {"principle": principle["id"], "tids": list(rec.get("source", {}).get("tids", [])),
                  "from_kind": rec.get("kind"), "base_model": base_name, "critique": critique}
        out_sft.append({"prompt": rec["prompt"], "completion": " " + revision, "kind": KIND, "source": source})
        out_pref.append({"prompt": rec["prompt"], "chosen": " " + revision, "rejected": " " + answer,
                         "kind": KIND, "source": source})
    return CritiqueResult(sft=out_sft, preference=out_pref, attempted=attempted, skipped=skipped)


def with_critique(data, result: CritiqueResult, base_name: str):
    """A new TrainingDataset: `data` plus the critique records, with the report's counts updated."""
    from finetune.data import TrainingDataset, count_records

    sft, preference = data.sft + result.sft, data.preference + result.preference
    report = {**data.report, **count_records(sft, preference, data.heldout), "critique": result.report(base_name)}
    return TrainingDataset(sft=sft, preference=preference, heldout=data.heldout, report=report,
                           provenance={**data.provenance, "critique_of_dataset_sha256": data.sha256},
                           language=data.language, groups=data.groups)
