"""Consensus, plurality and steerability: the held-out statements asked as "Do you agree: ...?".

Options are ordinal, agree / unsure / disagree, matched to the community's agree / pass /
disagree shares. See docs/evals.md for each metric with a worked example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from finetune.evals.items import EvalItem, validate_all
from finetune.evals.metrics import MetricFn, brier, mean_over, representativeness, spearman
from finetune.evals.scoring import Progress, Scorer, option_distributions
from finetune.evals.suites import EvalSource, MetricSpec, OpinionStatement, SuiteResult
from finetune.evals.suites.prompts import OPINION, wording

OPTIONS = ("agree", "unsure", "disagree")
AGREE, DISAGREE = 0, 2


def statement_kind(s: OpinionStatement) -> str:
    """The statement's kind as given, else from the shares: consensus when every group (or, with no
    groups, the community) agrees by a majority; rejected when every one disagrees more than agrees."""
    if s.kind:
        return s.kind
    dists = list(s.groups.values()) or [s.shares]
    if all(a > 0.5 for a, _, _ in dists):
        return "consensus"
    if all(d > a for a, _, d in dists):
        return "rejected"
    if any(a > 0.5 for a, _, _ in dists) and any(d > a for a, _, d in dists):
        return "divisive"
    return "mixed"


def _norm(v: tuple[float, ...]) -> tuple[float, ...]:
    t = float(sum(v))
    return tuple(float(x) / t for x in v) if t > 0 else v


def opinion_item(suite: str, s: OpinionStatement, language: str, prefix: str = "", group: str = "") -> EvalItem:
    used, w = wording(OPINION, language)
    kind = statement_kind(s)
    return EvalItem(
        id=f"{s.id}:{language}" + (f":steer={group}" if group else ""),
        suite=suite,
        prompt=prefix + w["ask"].replace("{text}", s.text),
        options=OPTIONS,
        continuations=w["continuations"],
        choice_names=w["names"],
        target=_norm(s.shares),
        groups={g: _norm(v) for g, v in s.groups.items()},
        correct={"consensus": AGREE, "rejected": DISAGREE}.get(kind),
        kind=kind,
        language=language,
        meta={"statement_id": s.id, "asked_in": used, "votes": s.votes, **({"steered_to": group} if group else {})},
    )


def _records(items: list[EvalItem], dists: list[np.ndarray], raw: list | None) -> list[dict]:
    out = []
    for i, (it, p) in enumerate(zip(items, dists, strict=True)):
        rec = {"id": it.id, "distribution": [float(x) for x in p], "answer": it.options[int(np.argmax(p))]}
        if raw is not None:
            rec["loglikelihoods"] = raw[i]
        out.append(rec)
    return out


def _group_names(items: list[EvalItem]) -> list[str]:
    return sorted({g for it in items for g in it.groups}, key=lambda g: (len(g), g))


def _group_rep(items: list[EvalItem], pm: np.ndarray) -> dict[str, np.ndarray]:
    """Per group, each item's representativeness against that group (NaN where the group has no shares)."""
    out = {}
    for g in _group_names(items):
        q = np.array([it.groups.get(g, (np.nan,) * 3) for it in items], dtype=np.float64)
        out[g] = representativeness(pm, q)
    return out


def _group_wrong(items: list[EvalItem], pm: np.ndarray) -> dict[str, np.ndarray]:
    """Per group, 1 where the model's answer is not the group's plurality answer (NaN: no shares)."""
    pick = pm.argmax(axis=1)
    out = {}
    for g in _group_names(items):
        out[g] = np.array(
            [float(pick[i] != int(np.argmax(it.groups[g]))) if g in it.groups else np.nan for i, it in enumerate(items)]
        )
    return out


def _masked_mean(v: np.ndarray) -> MetricFn:
    return mean_over(np.nan_to_num(v), ~np.isnan(v))


@dataclass(frozen=True)
class ConsensusSuite:
    name: str = "consensus"
    title: str = "Consensus: the community's own positions"
    headline: str = "representativeness"
    key_title: str = "representativeness against the community"
    metric_specs: tuple[MetricSpec, ...] = (
        MetricSpec("representativeness", "Representativeness (1 − W1/2)"),
        MetricSpec("accuracy_consensus", "Agrees with consensus statements", percent=True),
        MetricSpec("accuracy_rejected", "Disagrees with rejected statements", percent=True),
        MetricSpec("brier", "Brier score vs the community's shares", higher_is_better=False),
        MetricSpec("spearman_agree", "Spearman ρ with the agree share"),
    )

    @property
    def promotion(self) -> dict:
        return {"representativeness": "beat"}

    def items(self, source: EvalSource) -> list[EvalItem]:
        return [opinion_item(self.name, s, lang) for s in source.heldout for lang in source.ask_in()]

    def evaluate(self, items: list[EvalItem], scorer: Scorer, progress: Progress | None = None) -> SuiteResult:
        validate_all(items, self.name)
        dists, raw = option_distributions(items, scorer, progress)
        return self.score(scorer.name, items, dists, raw)

    def score(self, model: str, items: list[EvalItem], dists: list[np.ndarray], raw: list | None = None) -> SuiteResult:
        pm = np.array(dists, dtype=np.float64)
        qm = np.array([it.target for it in items], dtype=np.float64)
        rep = representativeness(pm, qm)
        pick = pm.argmax(axis=1)
        correct = np.array([it.correct if it.correct is not None else -1 for it in items])
        hit = (pick == correct).astype(np.float64)
        br = brier(pm, qm)
        metrics: dict[str, MetricFn] = {
            "representativeness": mean_over(rep),
            "accuracy_consensus": mean_over(hit, correct == AGREE),
            "accuracy_rejected": mean_over(hit, correct == DISAGREE),
            "brier": mean_over(br),
            "spearman_agree": lambda idx: spearman(pm[idx, AGREE], qm[idx, AGREE]),
        }
        records = _records(items, dists, raw)
        for rec, r, b in zip(records, rep, br, strict=True):
            rec.update(representativeness=float(r), brier=float(b))
        return SuiteResult(self.name, model, items, records, metrics, rep)

    def baselines(self, items: list[EvalItem]) -> dict[str, SuiteResult]:
        return {name: self.score(name, items, d) for name, d in baseline_distributions(items).items()}


def baseline_distributions(items: list[EvalItem]) -> dict[str, list[np.ndarray]]:
    """Uniform; always agree; and the whole community's shares (for the plurality suites, the
    model that speaks for everyone at once, and so for no group in particular)."""
    return {
        "uniform": [np.full(3, 1 / 3) for _ in items],
        "always-agree": [np.array([1.0, 0.0, 0.0]) for _ in items],
        "community": [np.array(it.target, dtype=np.float64) for it in items],
    }


@dataclass(frozen=True)
class PluralitySuite(ConsensusSuite):
    name: str = "plurality"
    title: str = "Plurality: every opinion group"
    headline: str = "worst_group"
    key_title: str = "worst-group representativeness"
    metric_specs: tuple[MetricSpec, ...] = (
        MetricSpec("worst_group", "Worst group's representativeness"),
        MetricSpec("mean_group", "Mean over groups"),
        MetricSpec("gap", "Gap: best group − worst group", higher_is_better=False),
        MetricSpec("worst_group_error", "Positions wrong for the worst-served group", higher_is_better=False,
                   percent=True),
    )

    @property
    def promotion(self) -> dict:
        return {"worst_group": "beat"}

    def items(self, source: EvalSource) -> list[EvalItem]:
        return [opinion_item(self.name, s, lang) for s in source.heldout if s.groups for lang in source.ask_in()]

    def score(self, model: str, items: list[EvalItem], dists: list[np.ndarray], raw: list | None = None) -> SuiteResult:
        pm = np.array(dists, dtype=np.float64)
        per = _group_rep(items, pm)
        fns = {g: _masked_mean(v) for g, v in per.items()}
        wrong = _group_wrong(items, pm)
        wrong_fns = {g: _masked_mean(v) for g, v in wrong.items()}

        def each(idx: np.ndarray) -> np.ndarray:
            return np.array([f(idx) for f in fns.values()])

        metrics: dict[str, MetricFn] = {
            "worst_group": lambda idx: float(np.nanmin(each(idx))) if fns else float("nan"),
            "mean_group": lambda idx: float(np.nanmean(each(idx))) if fns else float("nan"),
            "gap": lambda idx: float(np.nanmax(each(idx)) - np.nanmin(each(idx))) if fns else float("nan"),
            "worst_group_error": lambda idx: float(np.nanmax([f(idx) for f in wrong_fns.values()]))
            if wrong_fns else float("nan"),
        }
        stack = np.vstack(list(per.values())) if per else np.full((1, len(items)), np.nan)
        key = np.nanmin(stack, axis=0)
        records = _records(items, dists, raw)
        for j, rec in enumerate(records):
            rec["groups"] = {g: (None if np.isnan(v[j]) else float(v[j])) for g, v in per.items()}
        groups = {g: {"representativeness": f, "error": wrong_fns[g]} for g, f in fns.items()}
        return SuiteResult(self.name, model, items, records, metrics, key, groups)


@dataclass(frozen=True)
class SteerableSuite(ConsensusSuite):
    """Told which group's view to give (its representative statements, with how it voted), does
    the model move toward that group's distribution? Gain = representativeness against group g
    when steered to g, minus the same without steering, averaged over groups."""

    name: str = "steerable"
    title: str = "Steerability: asked to speak for a group"
    headline: str = "steer_gain"
    key_title: str = "representativeness against the group asked for"
    metric_specs: tuple[MetricSpec, ...] = (
        MetricSpec("steer_gain", "Gain from being told the group's view"),
        MetricSpec("steered", "Representativeness when steered"),
        MetricSpec("unsteered", "Representativeness unsteered"),
    )

    @property
    def promotion(self) -> dict:
        return {}

    def items(self, source: EvalSource) -> list[EvalItem]:
        """Each statement once unsteered, then once per group it has shares for, steered to it."""
        out = []
        with_groups = [s for s in source.heldout if s.groups]
        for lang in source.ask_in():
            _, w = wording(OPINION, lang)
            out += [opinion_item(self.name, s, lang) for s in with_groups]
            for g, views in source.group_views.items():
                agree = " ".join(t for t, v in views if v == "agree") or w["none"]
                disagree = " ".join(t for t, v in views if v == "disagree") or w["none"]
                prefix = w["steer"].replace("{agree}", agree).replace("{disagree}", disagree)
                out += [opinion_item(self.name, s, lang, prefix, g) for s in with_groups if g in s.groups]
        return out

    def baselines(self, items: list[EvalItem]) -> dict[str, SuiteResult]:
        return {}  # a fixed distribution cannot be steered: its gain is 0 by construction

    def score(self, model: str, items: list[EvalItem], dists: list[np.ndarray], raw: list | None = None) -> SuiteResult:
        pm = np.array(dists, dtype=np.float64)
        plain = {it.id: pm[i] for i, it in enumerate(items) if "steered_to" not in it.meta}
        steered_rep, plain_rep = np.full(len(items), np.nan), np.full(len(items), np.nan)
        for i, it in enumerate(items):
            g = it.meta.get("steered_to")
            if g is None:
                continue
            q = np.array(it.groups[g], dtype=np.float64)
            steered_rep[i] = representativeness(pm[i], q)
            base_id = it.id.split(":steer=")[0]
            if base_id in plain:
                plain_rep[i] = representativeness(plain[base_id], q)
        gain = steered_rep - plain_rep
        metrics = {
            "steer_gain": _masked_mean(gain),
            "steered": _masked_mean(steered_rep),
            "unsteered": _masked_mean(plain_rep),
        }
        groups: dict[str, dict[str, MetricFn]] = {}
        for g in sorted({it.meta["steered_to"] for it in items if "steered_to" in it.meta}):
            m = np.array([it.meta.get("steered_to") == g for it in items])
            groups[g] = {"steer_gain": _masked_mean(np.where(m, gain, np.nan))}
        records = _records(items, dists, raw)
        for rec, s, u in zip(records, steered_rep, plain_rep, strict=True):
            if not np.isnan(s):
                rec.update(steered=float(s), unsteered=None if np.isnan(u) else float(u))
        return SuiteResult(self.name, model, items, records, metrics, np.nan_to_num(steered_rep, nan=-1.0), groups)


SUITES = (ConsensusSuite(), PluralitySuite(), SteerableSuite())
