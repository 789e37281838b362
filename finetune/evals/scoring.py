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

    def _logits(self, inp, keep: int):
        """Logits of the last `keep` positions (transformers' `logits_to_keep`), else all of them."""
        try:
            return self.model(inp, logits_to_keep=keep).logits
        except TypeError:  # a model class without logits_to_keep
            return self.model(inp).logits

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 64) -> list[str]: ...


def option_distributions(
    items: Sequence[EvalItem], scorer: Scorer, progress: Progress | None = None
) -> tuple[list[np.ndarray], list[list[list[float]]]]:
    """Per item: the normalised distribution over its options, averaged over option-order rotations
    (per character of each continuation where the item says `per_char`), and the raw summed
    log-likelihoods per rotation (indexed by option, canonical order)."""
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
        scale = [len(c) for c in it.continuations] if it.per_char else [1] * k
        dists.append(np.mean([normalise([v / n for v, n in zip(lp, scale, strict=True)]) for lp in per], axis=0))
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
                # Only the continuation positions need logits: with a 262k vocabulary the full
                # [batch, width, vocab] tensor would be gigabytes. `keep` covers every row's span.
                keep = width - min(len(s) - len(encs[i][1]) for s, i in zip(seqs, chunk, strict=True))
                logits = self._logits(inp.to(self.model.device), keep)
                logp = torch.log_softmax(logits.float(), dim=-1).cpu()
                offset = width - logp.shape[1]
                for r, i in enumerate(chunk):
                    cont = encs[i][1]
                    end = len(seqs[r]) - offset
                    rows = logp[r, end - len(cont) : end]
                    out[i] = float(rows.gather(1, torch.tensor(cont).unsqueeze(1)).sum())
                if progress:
                    progress(len(chunk))
        return out

    def _logits(self, inp, keep: int):
        """Logits of the last `keep` positions (transformers' `logits_to_keep`), else all of them."""
        try:
            return self.model(inp, logits_to_keep=keep).logits
        except TypeError:  # a model class without logits_to_keep
            return self.model(inp).logits

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 64) -> list[str]:
        """Greedy answers (deterministic), for suites that judge free text, e.g. the language suite."""
        import torch

        answers = []
        self.model.eval()
        with torch.no_grad(), self._ctx():
            for p in prompts:
                ids = self.tokenizer(p, return_tensors="pt").to(self.model.device)
                gen = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
                answers.append(self.tokenizer.decode(gen[0, ids["input_ids"].shape[1] :], skip_special_tokens=True))
        return answers


def load_scorers(
    base: str | Path | None, adapter: str | Path | None, cache_dir: str | Path, batch_size: int = 16
) -> tuple[list[HFScorer], dict[str, Any]]:
    """[base] or [base, adapter] scorers over one loaded model, and what was loaded (for provenance).

    With no base given, the adapter's own ``base_model_name_or_path`` is used. Raises EvalError
    when the base model or adapter cannot be found, or the adapter does not fit the base.
    """
    import json

    from finetune import base_models
    from finetune.errors import FinetuneError

    wanted = None
    if adapter is not None:
        adapter = Path(adapter)
        cfg = adapter / "adapter_config.json"
        if not cfg.is_file():
            raise EvalError(f"{adapter} is not an adapter folder (no adapter_config.json)")
        wanted = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if not wanted and base is None:
            raise EvalError(f"adapter {adapter} does not name its base model; pass --model")
    name = str(base if base is not None else wanted)
    try:
        bm = base_models.resolve(name, cache_dir)
    except FinetuneError as exc:
        whose = f"adapter {adapter.name}'s base model" if base is None and adapter is not None else "base model"
        raise EvalError(f"{whose} {name!r} is missing: {exc}") from exc
    if wanted and base is not None and Path(wanted).is_dir() and Path(wanted).resolve() != Path(bm.local_dir).resolve():
        raise EvalError(f"adapter {adapter.name} was trained on {wanted}, not on {name}")
    try:
        model, tokenizer = base_models.load(bm)
    except FinetuneError as exc:
        raise EvalError(str(exc)) from exc
    info = {"base": bm.to_dict(), "adapter": None}
    if adapter is None:
        return [HFScorer(model, tokenizer, "base", batch_size)], info
    from peft import PeftModel

    try:
        wrapped = PeftModel.from_pretrained(model, str(adapter))
    except (ValueError, RuntimeError, OSError, KeyError) as exc:
        raise EvalError(f"adapter {adapter} does not fit base model {name}: {exc}") from exc
    info["adapter"] = {"path": str(adapter), "name": adapter.name, "base_model_name_or_path": wanted}
    return [
        HFScorer(wrapped, tokenizer, "base", batch_size, use_adapter=False),
        HFScorer(wrapped, tokenizer, "adapter", batch_size, use_adapter=True),
    ], info
