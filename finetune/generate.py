"""Answers and logits from a base model with or without an adapter (the "try it" page and the same-logits checks).

Greedy decoding by default, so the base's and the adapter's answers to one prompt compare fairly and
repeat exactly; `seed` matters only with `do_sample=True`.
"""

from __future__ import annotations

import os
from pathlib import Path

from finetune.base_models import BaseModel, load


def load_with_adapter(base: BaseModel, adapter_dir: str | os.PathLike | None, device: str | None = None):
    """(model, tokenizer) in eval mode: the base alone, or PeftModel.from_pretrained(base, adapter_dir)."""
    model, tokenizer = load(base, device=device)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir))
    return model.eval(), tokenizer


def generate(base: BaseModel, adapter_dir: str | os.PathLike | None, prompt: str, max_new_tokens: int = 96,
             seed: int = 0, do_sample: bool = False, temperature: float = 0.7) -> str:
    """The continuation of `prompt` (without the prompt), greedy unless do_sample."""
    if not prompt.strip():
        raise ValueError("the prompt is empty")
    model, tokenizer = load_with_adapter(base, adapter_dir)
    return complete(model, tokenizer, prompt, max_new_tokens=max_new_tokens, seed=seed, do_sample=do_sample,
                    temperature=temperature)


def complete(model, tokenizer, prompt: str, max_new_tokens: int = 96, seed: int = 0, do_sample: bool = False,
             temperature: float = 0.7, add_special_tokens: bool = True) -> str:
    """The continuation of `prompt` under an already loaded model: the one decoding step every caller shares.

    `generate` loads and calls this once; the critique stage (finetune/critique.py) loads once and
    calls it three times per record, with `add_special_tokens=False` because a chat template has
    already written the BOS token.
    """
    import torch

    torch.manual_seed(seed)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=add_special_tokens).to(model.device)
    sampling = {"do_sample": True, "temperature": temperature} if do_sample else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                             **sampling)  # (1, T + new)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def logits(base: BaseModel, adapter_dir: str | os.PathLike | Path | None, text: str):
    """Float32 logits (1, T, vocab) of `text` under the base, or the base with the adapter."""
    import torch

    model, tokenizer = load_with_adapter(base, adapter_dir)
    inputs = tokenizer(text, return_tensors="pt").to(model.device)
    with torch.no_grad():
        return model(**inputs).logits.float().cpu()  # (1, T, V)
