"""Turn the fine-tuning dataset and the constitution export into an ``EvalSource``.

The held-out statements come from ``TrainingDataset.heldout`` (never trained on). Each group's
view, used by the steerable check, comes from statements that were *not* held out, so steering
never leaks the answer: the group's own representative statements when clustering named them,
else the statements on which that group's agree share stands furthest from the other groups'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from finetune.evals.items import EvalError
from finetune.evals.suites import EvalSource, OpinionStatement

VIEWS_PER_GROUP = 4


def _shares(c: dict[str, Any]) -> tuple[float, float, float] | None:
    a, p, d = (int(c.get(k) or 0) for k in ("agree", "pass", "disagree"))
    n = a + p + d
    return (a / n, p / n, d / n) if n else None


def _label(f: dict[str, Any]) -> str:
    return str(f.get("label") or f.get("group"))


def heldout_statements(rows: Iterable[dict[str, Any]]) -> tuple[OpinionStatement, ...]:
    """Held-out rows {tid, text, kind, overall: {agree, pass, disagree}, groups: [{label, ...}]}
    -> statements; rows nobody voted on are dropped (there is nothing to compare against)."""
    out = []
    for r in rows:
        try:
            overall = _shares(r["overall"])
            if overall is None:
                continue
            groups = {_label(f): s for f in r.get("groups") or [] if (s := _shares(f)) is not None}
            out.append(OpinionStatement(id=str(r["tid"]), text=str(r["text"]), shares=overall, groups=groups,
                                        kind=str(r.get("kind") or ""), votes=int(r["overall"].get("seen") or 0)))
        except (KeyError, TypeError, ValueError) as exc:
            tid = r.get("tid", "?") if isinstance(r, dict) else r
            raise EvalError(f"malformed held-out statement {tid!r}: {exc}") from exc
    return tuple(out)


def _evidence(constitution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ev: dict[str, dict[str, Any]] = {}
    for p in constitution.get("principles") or []:
        for s in p.get("statements") or []:
            ev[str(s["tid"])] = s
    for x in constitution.get("excluded") or []:
        if x.get("evidence") and x.get("reason") != "moderated_out":
            ev[str(x["tid"])] = x["evidence"]
    return ev


def group_views(
    constitution: dict[str, Any],
    groups: Sequence[dict[str, Any]],
    heldout_ids: set[str],
    per_group: int = VIEWS_PER_GROUP,
) -> dict[str, tuple[tuple[str, str], ...]]:
    """group label -> ((statement text, "agree" | "disagree"), ...) from statements not held out."""
    ev = {t: e for t, e in _evidence(constitution).items() if t not in heldout_ids}
    views: dict[str, tuple[tuple[str, str], ...]] = {}
    for g in groups:
        label = str(g.get("label") or g.get("id"))

        def position(e: dict[str, Any], label: str = label) -> tuple[str, float] | None:
            mine = [f for f in e.get("groups") or [] if _label(f) == label]
            others = [f for f in e.get("groups") or [] if _label(f) != label]
            s = _shares(mine[0]) if mine else None
            if s is None or s[0] == s[2]:
                return None
            rest = [x[0] for f in others if (x := _shares(f))]
            distinct = abs(s[0] - sum(rest) / len(rest)) if rest else 0.0
            return ("agree" if s[0] > s[2] else "disagree"), distinct

        named = [str(t) for t in g.get("representative") or [] if str(t) in ev]
        if named:
            chosen = named[:per_group]
        else:
            scored = [(pos[1], t) for t, e in ev.items() if (pos := position(e))]
            chosen = [t for _, t in sorted(scored, key=lambda x: (-x[0], x[1]))[:per_group]]
        views[label] = tuple((str(ev[t]["text"]), pos[0]) for t in chosen if (pos := position(ev[t])))
    return views


def source_from_dataset(
    slug: str,
    language: str,
    heldout: Iterable[dict[str, Any]],
    constitution: dict[str, Any] | None = None,
    groups: Sequence[dict[str, Any]] = (),
    languages: Sequence[str] = ("en",),
    community_items: Sequence[dict[str, Any]] = (),
    redteam_items: Sequence[dict[str, Any]] = (),
) -> EvalSource:
    """Everything the suites need, as plain data; ``languages`` adds languages to ask in (English
    by default, beside the assembly's own)."""
    stmts = heldout_statements(heldout)
    views = group_views(constitution, groups, {s.id for s in stmts}) if constitution else {}
    return EvalSource(slug=slug, language=language, languages=tuple(languages), heldout=stmts, group_views=views,
                      community_items=tuple(community_items), redteam_items=tuple(redteam_items))
