"""The one shape every eval item has, whatever suite it comes from, and its validation.

An item is a prompt and a fixed list of answer options, each with the exact text whose
log-likelihood is scored after the prompt. If the prompt contains ``{choices}``, the options'
names are listed there, and the item is asked once per rotation of that list (so the answer
cannot ride on the order the options were shown in); the distributions are averaged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError


class EvalError(FinetuneError, ValueError):
    """A clear, user-facing reason an eval cannot run (bad item, empty suite, missing model)."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    suite: str
    prompt: str  # context text; may contain "{choices}"
    options: tuple[str, ...]  # option keys, e.g. ("agree", "unsure", "disagree") or ("good", "bad")
    continuations: tuple[str, ...]  # the text scored for each option, same order as options
    choice_names: tuple[str, ...] = ()  # how options are named inside {choices}; defaults to options
    target: tuple[float, ...] | None = None  # reference distribution over options
    groups: dict[str, tuple[float, ...]] = field(default_factory=dict)  # per-group reference
    correct: int | None = None  # index of the right option, where one is right
    kind: str = ""  # e.g. consensus / rejected / divisive / harmful / benign
    category: str = ""
    language: str = "en"
    meta: dict[str, Any] = field(default_factory=dict)
    # Compare options by log-likelihood per character of their continuation (lm-eval's acc_norm)
    # rather than summed: where the options are whole answers of different lengths, a summed
    # log-likelihood prefers the shorter one whatever it says.
    per_char: bool = False

    def variants(self) -> list[tuple[str, tuple[int, ...]]]:
        """(prompt, order) for every rotation of the listed options; one variant when not listed."""
        if "{choices}" not in self.prompt:
            return [(self.prompt, tuple(range(len(self.options))))]
        names = self.choice_names or self.options
        sep = "、" if self.language.startswith(("zh", "nan")) else " / "
        out = []
        n = len(self.options)
        for r in range(n):
            order = tuple((i + r) % n for i in range(n))
            out.append((self.prompt.replace("{choices}", sep.join(names[i] for i in order)), order))
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"], d["continuations"] = list(self.options), list(self.continuations)
        d["choice_names"] = list(self.choice_names)
        d["target"] = list(self.target) if self.target is not None else None
        d["groups"] = {g: list(v) for g, v in self.groups.items()}
        return d


def validate(item: EvalItem) -> EvalItem:
    """Raise EvalError naming the item and the problem; return the item when it is well formed."""
    where = f"item {item.id!r} of suite {item.suite!r}"
    if not str(item.id).strip():
        raise EvalError(f"an item of suite {item.suite!r} has no id")
    if not item.prompt.strip():
        raise EvalError(f"{where}: empty prompt")
    if len(item.options) < 2 or len(item.options) != len(item.continuations):
        raise EvalError(f"{where}: needs at least two options, each with one continuation")
    if len(set(item.options)) != len(item.options):
        raise EvalError(f"{where}: duplicate option keys {list(item.options)}")
    if any(not c.strip() for c in item.continuations):
        raise EvalError(f"{where}: an option's continuation is empty")
    if len(set(item.continuations)) != len(item.continuations):
        raise EvalError(f"{where}: two options have the same continuation")
    if item.choice_names and len(item.choice_names) != len(item.options):
        raise EvalError(f"{where}: choice_names must name every option")
    for name, dist in [("target", item.target), *((f"group {g}", v) for g, v in item.groups.items())]:
        if dist is None:
            continue
        if len(dist) != len(item.options) or any(not (0 <= x <= 1) for x in dist):
            raise EvalError(f"{where}: {name} must be {len(item.options)} shares in [0, 1]")
        if abs(sum(dist) - 1) > 1e-6:
            raise EvalError(f"{where}: {name} shares sum to {sum(dist):.6f}, not 1")
    if item.correct is not None and not (0 <= item.correct < len(item.options)):
        raise EvalError(f"{where}: correct option {item.correct} out of range")
    return item


def validate_all(items: list[EvalItem], suite: str) -> list[EvalItem]:
    if not items:
        raise EvalError(f"suite {suite!r} has no items: nothing to evaluate")
    seen: set[str] = set()
    for it in items:
        validate(it)
        if it.id in seen:
            raise EvalError(f"suite {suite!r}: duplicate item id {it.id!r}")
        seen.add(it.id)
    return items


def item_from_dict(d: dict[str, Any], suite: str) -> EvalItem:
    """Build an item from a JSON object (a shipped JSONL line, a stored community item)."""
    try:
        return validate(
            EvalItem(
                id=str(d["id"]),
                suite=suite,
                prompt=str(d["prompt"]),
                options=tuple(d["options"]),
                continuations=tuple(d["continuations"]),
                choice_names=tuple(d.get("choice_names") or ()),
                target=tuple(d["target"]) if d.get("target") is not None else None,
                groups={str(g): tuple(v) for g, v in (d.get("groups") or {}).items()},
                correct=d.get("correct"),
                kind=str(d.get("kind", "")),
                category=str(d.get("category", "")),
                language=str(d.get("language", "en")),
                meta=dict(d.get("meta") or {}),
            )
        )
    except (KeyError, TypeError) as exc:
        raise EvalError(f"malformed item {d.get('id', '?')!r} in suite {suite!r}: missing or bad field {exc}") from exc


def load_jsonl(path: Path, suite: str) -> list[EvalItem]:
    """Read and validate a JSONL file of items; the line number is in every error."""
    items = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{no}: not JSON ({exc.msg})") from exc
        try:
            items.append(item_from_dict(d, suite))
        except EvalError as exc:
            raise EvalError(f"{path}:{no}: {exc}") from exc
    return validate_all(items, suite)
