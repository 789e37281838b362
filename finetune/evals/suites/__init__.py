"""The suite interface and registry: every eval suite, built-in or plugged in, has this shape.

A suite turns what the assembly provides (an ``EvalSource``) into ``EvalItem``s and scores one
model on them, returning a ``SuiteResult``: per-item records (kept in the report) and named
metrics as functions of item indices, so that the report can bootstrap every one of them and
compare base and adapter on the same resampled items.

Plugging in a suite (the language suite does this): write a module that defines ``SUITE``, an
object satisfying ``Suite``, and add its dotted name to ``OPTIONAL_SUITE_MODULES``. A module that
is absent is skipped; one that is present but broken raises, so a broken suite is never silently
left out of a promotion decision.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from finetune.evals.items import EvalError, EvalItem
from finetune.evals.metrics import MetricFn
from finetune.evals.scoring import Progress, Scorer


@dataclass(frozen=True)
class OpinionStatement:
    """One held-out statement with the community's and each group's agree / pass / disagree shares."""

    id: str
    text: str
    shares: tuple[float, float, float]  # agree, pass, disagree over everyone who voted
    groups: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    kind: str = ""  # consensus | rejected | divisive | "" (derived from the shares when empty)
    votes: int = 0


@dataclass(frozen=True)
class EvalSource:
    """Everything a suite may build items from; plain data, filled by the application glue."""

    slug: str
    language: str = "en"  # the assembly's language (BCP 47, e.g. zh-Hant-TW)
    languages: tuple[str, ...] = ()  # extra languages to ask the opinion suites in
    heldout: tuple[OpinionStatement, ...] = ()
    # group -> its representative statements, each (text, "agree" | "disagree")
    group_views: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    community_items: tuple[dict[str, Any], ...] = ()  # {"id","prompt","good","bad","votes"?}
    redteam_items: tuple[dict[str, Any], ...] = ()  # {"id","prompt","bad","good"?}

    def ask_in(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.language, *self.languages)))


Direction = Literal["beat", "not_worse"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    title: str
    higher_is_better: bool = True
    percent: bool = False  # shown as a percentage


@dataclass
class SuiteResult:
    """One model on one suite."""

    suite: str
    model: str
    items: list[EvalItem]
    records: list[dict[str, Any]]  # one JSON-able record per item, same order as items
    metrics: dict[str, MetricFn]  # MetricSpec.name -> score over item indices
    key: np.ndarray  # one headline value per item, to find where two models differ most
    groups: dict[str, dict[str, MetricFn]] = field(default_factory=dict)  # group -> metric -> fn


class Suite(Protocol):
    name: str
    title: str
    metric_specs: Sequence[MetricSpec]
    headline: str  # the metric that stands for the suite
    promotion: dict[str, Direction]  # which metrics enter the promotion rule, and how
    key_title: str  # what SuiteResult.key measures per item

    def items(self, source: EvalSource) -> list[EvalItem]: ...

    def evaluate(self, items: list[EvalItem], scorer: Scorer, progress: Progress | None = None) -> SuiteResult: ...

    def baselines(self, items: list[EvalItem]) -> dict[str, SuiteResult]: ...


OPTIONAL_SUITE_MODULES = ("finetune.evals.language_suite",)

_REGISTRY: dict[str, Suite] = {}
_loaded = False


def register(suite: Suite) -> Suite:
    if suite.name in _REGISTRY and _REGISTRY[suite.name] is not suite:
        raise EvalError(f"two suites are named {suite.name!r}")
    _REGISTRY[suite.name] = suite
    return suite


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from finetune.evals.suites import opinions, pairwise

    for s in (*opinions.SUITES, *pairwise.SUITES):
        register(s)
    for mod in OPTIONAL_SUITE_MODULES:
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        register(module.SUITE)
    _loaded = True


def all_suites() -> list[Suite]:
    _load()
    return list(_REGISTRY.values())


def get(name: str) -> Suite:
    _load()
    if name not in _REGISTRY:
        raise EvalError(f"unknown suite {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]

