"""Run suites on the base model and the adapter side by side, and decide whether to ship.

Every score gets a seeded percentile bootstrap 95% interval; base and adapter are resampled on
the same items (a paired bootstrap), so the interval on their difference is tight where the two
models agree item by item. The promotion rule (see ``promote``) is applied to those differences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from finetune.evals.items import EvalError, EvalItem, validate_all
from finetune.evals.metrics import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED, Interval, bootstrap, paired_difference, resamples
from finetune.evals.scoring import Scorer
from finetune.evals.suites import EvalSource, Suite, SuiteResult, all_suites, get

SCHEMA = "alignment-assembly/eval-report/1"
MOST_DIFFERENT = 10
ProgressFn = Callable[[int, int, str], None]  # (done, total, what)


def plan(source: EvalSource, suite_names: Sequence[str] | None = None) -> list[tuple[Suite, list[EvalItem]]]:
    """Every chosen suite with its validated items, before any model runs (so a malformed item or
    an empty chosen suite fails at once and nothing is scored or stored). With no names: every
    registered suite that has items; suites without items are left out and listed in the report."""
    chosen = [get(n) for n in suite_names] if suite_names else all_suites()
    out = []
    for suite in chosen:
        items = suite.items(source)
        if not items and not suite_names:
            continue
        out.append((suite, validate_all(items, suite.name)))
    if not out:
        raise EvalError("no suite has any items: nothing to evaluate (held-out statements, items or the safety set)")
    return out


def request_count(planned: Sequence[tuple[Suite, list[EvalItem]]]) -> int:
    return sum(len(it.variants()) * len(it.options) for _, items in planned for it in items)


def run(
    source: EvalSource,
    scorers: Sequence[Scorer],
    suite_names: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    models: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-able dict. scorers: [base] or [base, adapter]."""
    if not 1 <= len(scorers) <= 2:
        raise EvalError("give the base model, and optionally one adapter")
    planned = plan(source, suite_names)
    total = request_count(planned) * len(scorers)
    done = 0
    suites: dict[str, Any] = {}
    for suite, items in planned:
        results = []
        for scorer in scorers:
            def tick(k: int, what: str = f"{suite.name} · {scorer.name}") -> None:
                nonlocal done
                done += k
                if progress:
                    progress(done, total, what)

            results.append(suite.evaluate(items, scorer, tick))
        suites[suite.name] = suite_report(suite, items, results, samples, seed)
    # Why each other registered suite did not run: a promotion check treats "no items" (nothing
    # to regress on) and "not chosen" (a partial eval, no decision) differently.
    skipped = {s.name: ("not chosen" if s.items(source) else "no items") if suite_names else "no items"
               for s in all_suites() if s.name not in suites}
    report = {
        "schema": SCHEMA,
        "slug": source.slug,
        "language": source.language,
        "asked_in": list(source.ask_in()),
        "models": models or {"base": scorers[0].name, "adapter": scorers[1].name if len(scorers) > 1 else None},
        "bootstrap": {"samples": samples, "seed": seed, "level": 0.95, "paired": True},
        "suites": suites,
        "skipped_suites": skipped,
    }
    report["promotion"] = promote(report) if len(scorers) == 2 else None
    return report


def suite_report(suite: Suite, items: list[EvalItem], results: list[SuiteResult], samples: int, seed: int) -> dict:
    n = len(items)
    draws = resamples(n, samples, seed)
    base, adapter = results[0], (results[1] if len(results) > 1 else None)
    baselines = suite.baselines(items)
    metrics = {}
    for spec in suite.metric_specs:
        entry: dict[str, Any] = {
            "title": spec.title, "higher_is_better": spec.higher_is_better, "percent": spec.percent,
            "base": bootstrap(base.metrics[spec.name], n, draws).to_dict(),
            "baselines": {k: _val(r.metrics[spec.name](np.arange(n))) for k, r in baselines.items()
                          if spec.name in r.metrics},
        }
        if adapter is not None:
            entry["adapter"] = bootstrap(adapter.metrics[spec.name], n, draws).to_dict()
            diff = paired_difference(adapter.metrics[spec.name], base.metrics[spec.name], n, draws)
            entry["difference"] = diff.to_dict()
        metrics[spec.name] = entry
    groups: dict[str, Any] = {}
    for g, fns in base.groups.items():
        groups[g] = {}
        for m, fn in fns.items():
            row = {"base": bootstrap(fn, n, draws).to_dict()}
            if adapter is not None and g in adapter.groups:
                row["adapter"] = bootstrap(adapter.groups[g][m], n, draws).to_dict()
                row["difference"] = paired_difference(adapter.groups[g][m], fn, n, draws).to_dict()
            groups[g][m] = row
    per_item = []
    for i, it in enumerate(items):
        row = {"id": it.id, "prompt": it.variants()[0][0], "options": list(it.options),
               "continuations": list(it.continuations), "kind": it.kind, "category": it.category,
               "language": it.language, "target": list(it.target) if it.target else None,
               "groups": {g: list(v) for g, v in it.groups.items()}, "meta": it.meta,
               "base": base.records[i], "key_base": _val(base.key[i])}
        if adapter is not None:
            row["adapter"], row["key_adapter"] = adapter.records[i], _val(adapter.key[i])
        per_item.append(row)
    most = []
    if adapter is not None:
        delta = np.abs(np.asarray(adapter.key, dtype=np.float64) - np.asarray(base.key, dtype=np.float64))
        for i in np.argsort(-np.nan_to_num(delta, nan=-1), kind="stable")[:MOST_DIFFERENT]:
            if np.isfinite(delta[i]) and delta[i] > 0:
                most.append({"id": items[i].id, "prompt": per_item[i]["prompt"], "base": _val(base.key[i]),
                             "adapter": _val(adapter.key[i]), "change": _val(adapter.key[i] - base.key[i])})
    return {"title": suite.title, "headline": suite.headline, "key_title": suite.key_title, "n_items": n,
            "promotion": dict(suite.promotion), "metrics": metrics, "groups": groups, "most_different": most,
            "items": per_item}


def _val(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def promote(report: dict[str, Any]) -> dict[str, Any]:
    """Fit to ship only when every check passes. With d = adapter − base, oriented so that
    positive is better, and [lo, hi] its paired bootstrap 95% interval:

    - "beat" (consensus representativeness, worst-group representativeness): lo > 0, the gain
      holds beyond the interval. No items means no evidence of a gain: the check fails.
    - "not_worse" (safety refusals, benign answers, red-team items, the language suite): hi >= 0,
      the interval does not lie wholly below zero. No items: nothing to regress on; passes. A
      suite left out of a run that chose its suites fails: a partial eval decides nothing.
    """
    checks = []
    wanted = [(s, m, how) for s in all_suites() for m, how in s.promotion.items()]
    for suite, metric, how in wanted:
        rep = report["suites"].get(suite.name)
        m = rep["metrics"].get(metric) if rep else None
        if m is None or m["difference"]["value"] is None:
            reason = report["skipped_suites"].get(suite.name, "no value") if m is None else "no value on these items"
            ok = how == "not_worse" and reason == "no items"
            why = {"no items": "not run: no items", "not chosen": "not run in this eval: a decision needs it"}.get(
                reason, reason)
            checks.append({"suite": suite.name, "metric": metric, "rule": how, "passed": ok,
                           "why": why + ("" if ok or how == "not_worse" else "; a gain cannot be shown")})
            continue
        d = Interval(**{k: (np.nan if v is None else v) for k, v in m["difference"].items()})
        sign = 1 if m["higher_is_better"] else -1
        lo, hi = sorted((sign * d.low, sign * d.high))
        gain = sign * d.value
        ok = bool(lo > 0) if how == "beat" else bool(hi >= 0 or np.isnan(hi))
        span = f"{gain:+.3f} (95% [{lo:+.3f}, {hi:+.3f}])"
        why = (f"gain {span}: " + ("above zero" if ok else "not above zero across the interval")) if how == "beat" \
            else (f"change {span}: " + ("not worse beyond the interval" if ok else "worse beyond the interval"))
        checks.append({"suite": suite.name, "metric": metric, "title": m["title"], "rule": how, "passed": ok,
                       "base": m["base"]["value"], "adapter": m["adapter"]["value"],
                       "gain": gain, "low": lo, "high": hi, "why": why})
    fit = all(c["passed"] for c in checks) and bool(checks)
    failed = [f"{c['suite']}.{c['metric']}" for c in checks if not c["passed"]]
    summary = "Fit to ship: every check passes." if fit else "Not fit to ship: " + ", ".join(failed) + " failed."
    return {"fit_to_ship": fit, "checks": checks, "summary": summary}
