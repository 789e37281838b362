"""Bar charts with interval whiskers as server-rendered SVG geometry (like the opinion map and the
loss curve): base and adapter side by side per metric or per group, readable without JavaScript."""

from __future__ import annotations

from typing import Any

WIDTH, LABEL_W, ROW_H, BAR_H, PAD = 560.0, 220.0, 34.0, 11.0, 8.0


def bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """rows: [{label, base: {value, low, high}, adapter: {...} | None}] -> geometry, or None if empty.

    The axis spans [0, 1] widened to hold every interval, so shares and representativeness read
    on one scale while a negative correlation still fits."""
    vals = [x for r in rows for who in ("base", "adapter") if r.get(who)
            for x in (r[who].get("value"), r[who].get("low"), r[who].get("high")) if x is not None]
    if not vals:
        return None
    lo, hi = min(0.0, *vals), max(1.0, *vals)
    span = hi - lo
    plot_w = WIDTH - LABEL_W - PAD

    def x(v: float) -> float:
        return round(LABEL_W + (v - lo) / span * plot_w, 1)

    out = []
    for i, r in enumerate(rows):
        y0 = PAD + i * ROW_H
        bars = []
        for j, who in enumerate(("base", "adapter")):
            m = r.get(who)
            if not m or m.get("value") is None:
                continue
            y = y0 + j * (BAR_H + 2)
            left, right = sorted((x(0.0 if lo <= 0 <= hi else lo), x(m["value"])))
            bar = {"who": who, "x": left, "w": round(max(right - left, 0.5), 1), "y": round(y, 1), "h": BAR_H,
                   "value": m["value"], "cy": round(y + BAR_H / 2, 1)}
            if m.get("low") is not None and m.get("high") is not None:
                bar.update(x1=x(m["low"]), x2=x(m["high"]))
            bars.append(bar)
        out.append({"label": r["label"], "ty": round(y0 + BAR_H + 3, 1), "bars": bars})
    return {"width": WIDTH, "height": round(PAD * 2 + len(rows) * ROW_H, 1), "label_w": LABEL_W, "rows": out,
            "zero": x(0.0) if lo <= 0 <= hi else None, "one": x(1.0), "lo": lo, "hi": hi,
            "top": PAD / 2, "bottom": round(PAD + len(rows) * ROW_H, 1)}


def suite_chart(suite: dict[str, Any]) -> dict[str, Any] | None:
    return bar_chart([{"label": m["title"], "base": m.get("base"), "adapter": m.get("adapter")}
                      for m in suite["metrics"].values()])


def group_chart(suite: dict[str, Any]) -> dict[str, Any] | None:
    """One row per group (or category), on its first metric."""
    rows = []
    for g, metrics in suite.get("groups", {}).items():
        name, m = next(iter(metrics.items()))
        rows.append({"label": f"{g} · {name}", "base": m.get("base"), "adapter": m.get("adapter")})
    return bar_chart(rows) if rows else None
