"""Log-likelihood scoring of fixed answer options on any causal LM, with or without a peft adapter.

A scorer answers ``loglikelihood([(context, continuation), ...])`` with the sum of the
continuation's token log-probabilities, tokenised exactly as lm-evaluation-harness 0.4 does
(trailing spaces of the context move to the continuation; the pair is encoded whole and split at
the context's length; the input is the pair minus its last token, right-padded, no attention
mask), so the exported lm-eval tasks reproduce the platform's numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from finetune.evals.items import EvalError, EvalItem
from finetune.evals.metrics import normalise

Progress = Callable[[int], None]  # called with the number of requests just finished


class Scorer(Protocol):
    """What a suite needs from a model. ``name`` goes into the report."""

    name: str

    def loglikelihood(self, requests: Sequence[tuple[str, str]], progress: Progress | None = None) -> list[float]: ...

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 64) -> list[str]: ...


def option_distributions(
    items: Sequence[EvalItem], scorer: Scorer, progress: Progress | None = None
) -> tuple[list[np.ndarray], list[list[list[float]]]]:
    """Per item: the normalised distribution over its options, averaged over option-order rotations,
    and the raw summed log-likelihoods per rotation (indexed by option, canonical order)."""
    requests: list[tuple[str, str]] = []
    layout: list[list[tuple[int, tuple[int, ...]]]] = []
    for it in items:
        rows = []
        for prompt, order in it.variants():
            rows.append((len(requests), order))
            requests.extend((prompt, c) for c in it.continuations)
        layout.append(rows)
    lls = scorer.loglikelihood(requests, progress)
    dists, raw = [], []
    for it, rows in zip(items, layout, strict=True):
        k = len(it.options)
        per = [list(lls[start : start + k]) for start, _ in rows]
        dists.append(np.mean([normalise(lp) for lp in per], axis=0))
        raw.append(per)
    return dists, raw


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """lm-eval's causal split: encode context+continuation whole, cut at the context's length."""
    n = len(context) - len(context.rstrip())
    if n:
        continuation, context = context[-n:] + continuation, context[:-n]
    whole = tokenizer.encode(context + continuation)
    ctx = tokenizer.encode(context)
    return ctx, whole[len(ctx) :]


class HFScorer:
    """A transformers causal LM (optionally wrapped by a peft adapter) scored in batches.

    ``use_adapter=False`` on a PeftModel scores the base with the adapter switched off, so base
    and adapter share one loaded copy of the weights.
    """

    def __init__(self, model: Any, tokenizer: Any, name: str, batch_size: int = 16, use_adapter: bool = True):
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.batch_size, self.use_adapter = batch_size, use_adapter

    def _ctx(self):
        import contextlib

        if not self.use_adapter and hasattr(self.model, "disable_adapter"):
            return self.model.disable_adapter()
        return contextlib.nullcontext()

    def loglikelihood(self, requests: Sequence[tuple[str, str]], progress: Progress | None = None) -> list[float]:
        import torch

        encs = [encode_pair(self.tokenizer, c, x) for c, x in requests]
        for (c, x), (_, cont) in zip(requests, encs, strict=True):
            if not cont:
                raise EvalError(f"continuation {x!r} after {c[-40:]!r} tokenises to nothing")
        order = sorted(range(len(encs)), key=lambda i: -len(encs[i][0]) - len(encs[i][1]))
        out = [0.0] * len(encs)
        self.model.eval()
        with torch.no_grad(), self._ctx():
            for b in range(0, len(order), self.batch_size):
                chunk = order[b : b + self.batch_size]
                seqs = [(encs[i][0] + encs[i][1])[:-1] for i in chunk]
                width = max(len(s) for s in seqs)
                inp = torch.zeros((len(seqs), width), dtype=torch.long)
                for r, s in enumerate(seqs):
                    inp[r, : len(s)] = torch.tensor(s, dtype=torch.long)
                logp = torch.log_softmax(self.model(inp).logits.float(), dim=-1)
                for r, i in enumerate(chunk):
                    cont = encs[i][1]
                    end = len(seqs[r])
                    rows = logp[r, end - len(cont) : end]
                    out[i] = float(rows.gather(1, torch.tensor(cont).unsqueeze(1)).sum())
                if progress:
                    progress(len(chunk))
        return out

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 64) -> list[str]:
        """Greedy answers (deterministic), for suites that judge free text, e.g. the language suite."""
        import torch

        answers = []
        self.model.eval()
        with torch.no_grad(), self._ctx():
            for p in prompts:
                ids = self.tokenizer(p, return_tensors="pt")
                gen = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
                answers.append(self.tokenizer.decode(gen[0, ids["input_ids"].shape[1] :], skip_special_tokens=True))
        return answers


def load_scorers(base: str | Path, adapter: str | Path | None = None, batch_size: int = 16) -> list[HFScorer]:
    """[base] or [base, adapter] scorers over one loaded model. Raises EvalError with the reason when
    the base model or adapter cannot be found, or the adapter was trained on another base."""
    import json

    base_dir = _resolve_base(base)
    if adapter is not None:
        adapter = Path(adapter)
        cfg = adapter / "adapter_config.json"
        if not cfg.is_file():
            raise EvalError(f"{adapter} is not an adapter folder (no adapter_config.json)")
        wanted = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if not wanted:
            raise EvalError(f"adapter {adapter} does not name its base model")
        if base is None:
            base_dir = _resolve_base(wanted)
    model, tokenizer = _load(base_dir)
    if adapter is None:
        return [HFScorer(model, tokenizer, f"base:{base}", batch_size)]
    from peft import PeftModel

    try:
        wrapped = PeftModel.from_pretrained(model, str(adapter))
    except (ValueError, RuntimeError, OSError) as exc:
        raise EvalError(f"adapter {adapter} does not fit base model {base}: {exc}") from exc
    return [
        HFScorer(wrapped, tokenizer, f"base:{base}", batch_size, use_adapter=False),
        HFScorer(wrapped, tokenizer, f"adapter:{adapter.name}", batch_size, use_adapter=True),
    ]


def _resolve_base(base: str | Path) -> Path:
    """A base model folder: finetune-core's named models first, else a local Hugging Face folder."""
    try:
        from finetune import base_models
    except ImportError:  # finetune-core absent: only local folders
        base_models = None
    if base_models is not None and hasattr(base_models, "resolve"):
        try:
            return Path(base_models.resolve(str(base)))
        except (KeyError, LookupError, FileNotFoundError, ValueError) as exc:
            if not Path(base).is_dir():
                raise EvalError(f"base model {base!r} is missing: {exc}") from exc
    p = Path(base)
    if not (p / "config.json").is_file():
        raise EvalError(f"base model {base!r} is missing: no model folder with config.json there")
    return p


def _load(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise EvalError(f"cannot load base model from {path}: {exc}") from exc
    return model, tok
