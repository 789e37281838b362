"""Which base model a run may name: checked in the web process without loading anything, and
resolved to a local folder only in the worker (a registered GGUF is converted once)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from assembly.adapters import registry
from assembly.domain_errors import AssemblyError


def check_base_model_name(name: str) -> str:
    """Refuse (422) a base model that cannot be one, without loading anything (the web process never does).

    Registered names and the tiny test model, an existing Hugging Face folder, or a hub id of the
    form org/name. The worker resolves it (converting a registered GGUF once) and records the
    weights' sha256; a hub id that cannot be downloaded fails the run with the reason.
    """
    from finetune.base_models import REGISTRY, TINY_TEST_MODEL, known_names

    name = (name or "").strip()
    if name in REGISTRY or name == TINY_TEST_MODEL:
        return name
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise AssemblyError(f"{name} is not a Hugging Face model folder (no config.json)", 422)
        return name
    parts = name.split("/")
    if len(parts) == 2 and all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", p) for p in parts):
        return name
    raise AssemblyError(f"unknown base model {name!r}: not a registered name ({', '.join(known_names())}), "
                        "not an existing folder, and not a hub id of the form org/name", 422)


def check_critique_model(name: str) -> None:
    """Refuse (422) the critique stage for a base model known to have no chat template, saying why.

    Registered models say whether they are chat models; a local folder is read for a chat
    template; a hub id is checked by the worker once downloaded (the run fails with the reason).
    """
    from finetune.base_models import REGISTRY, TINY_TEST_MODEL
    from finetune.critique import WHY_CHAT, has_chat_template

    entry = REGISTRY.get(name)
    if name == TINY_TEST_MODEL or (entry is not None and not entry.chat) or \
            (entry is None and Path(name).expanduser().exists() and not has_chat_template(Path(name).expanduser())):
        chat = ", ".join(n for n, e in REGISTRY.items() if e.chat)
        raise AssemblyError(f"{name} is a base model without a chat template, so it cannot be used for critique: "
                            f"{WHY_CHAT}. Choose a chat model ({chat}) or train without critique.", 422)


def resolve_base_model(app: Flask, name: str):
    """The worker's side: the local folder of the base model (converted or downloaded once)."""
    from finetune.base_models import resolve

    return resolve(name, registry.finetune_dir(app))
