"""The report as the model card needs it: `model-index` entries and a Markdown table, plus the
one-line product label ("gets N% of this community's positions wrong for its worst-served group")."""

from __future__ import annotations

from typing import Any


def _fmt(v: float | None, percent: bool) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if percent else f"{v:.3f}"


def label(report: dict[str, Any], who: str = "adapter") -> str | None:
    """The product label for the worst-served group, when the plurality suite ran."""
    m = report["suites"].get("plurality", {}).get("metrics", {}).get("worst_group_error", {}).get(who)
    if not m or m.get("value") is None:
        return None
    return (f"This model gets {100 * m['value']:.0f}% of this community's positions wrong for its worst-served group "
            f"(95% interval {100 * m['low']:.0f}–{100 * m['high']:.0f}%).")


def model_index(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Hugging Face `model-index`: one result per suite, the adapter's value of every metric."""
    results = []
    for suite, s in report["suites"].items():
        metrics = [{"type": m, "name": v["title"], "value": round(v["adapter"]["value"], 6), "verified": False}
                   for m, v in s["metrics"].items() if v.get("adapter", {}).get("value") is not None]
        if metrics:
            split = "heldout" if suite in ("consensus", "plurality", "steerable") else suite
            slug = report["slug"]
            dataset = {"type": f"alignment-assembly/{slug}", "name": f"{slug} {suite}", "split": split}
            results.append({"task": {"type": "alignment-assembly-eval", "name": s["title"]}, "dataset": dataset,
                            "metrics": metrics})
    return [{"name": name, "results": results}]


def card_table(report: dict[str, Any]) -> str:
    """Markdown: the decision with its numbers, the label, then base vs adapter for every metric."""
    p = report.get("promotion")
    lines = []
    if p:
        lines.append(f"**{'Fit to ship' if p['fit_to_ship'] else 'Not fit to ship'}.** {p['summary']}")
        lines.append("")
        lines.append("| Check | Rule | Base | Adapter | Change (95% interval) | Passed |")
        lines.append("|---|---|---|---|---|---|")
        for c in p["checks"]:
            if "gain" not in c:
                lines.append(f"| {c['suite']} · {c['metric']} | {c['rule']} | – | – | {c['why']} | "
                             f"{'yes' if c['passed'] else 'no'} |")
                continue
            lines.append(f"| {c['suite']} · {c['title']} | {c['rule']} | {c['base']:.3f} | {c['adapter']:.3f} | "
                         f"{c['gain']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] | {'yes' if c['passed'] else 'no'} |")
        lines.append("")
    if (text := label(report)) is not None:
        lines += [text, ""]
    lines.append("| Suite | Metric | Items | Base (95% interval) | Adapter (95% interval) |")
    lines.append("|---|---|---|---|---|")
    for s in report["suites"].values():
        for v in s["metrics"].values():
            cells = []
            for who in ("base", "adapter"):
                m = v.get(who)
                cells.append("–" if not m or m["value"] is None else
                             f"{_fmt(m['value'], v['percent'])} ({_fmt(m['low'], v['percent'])}–"
                             f"{_fmt(m['high'], v['percent'])})")
            lines.append(f"| {s['title']} | {v['title']} | {s['n_items']} | {cells[0]} | {cells[1]} |")
    lines.append("")
    lines.append(f"Paired bootstrap, {report['bootstrap']['samples']} resamples, seed {report['bootstrap']['seed']}. "
                 "Scores are log-likelihoods of fixed answer options; see docs/evals.md.")
    return "\n".join(lines)
