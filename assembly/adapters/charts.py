"""The loss curve as server-rendered SVG geometry (like the opinion map): works without JavaScript."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, PAD = 480.0, 180.0, 28.0


def loss_chart(curve: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Polyline points per stage and axis labels for a loss curve [{stage, step, loss}], or None when empty."""
    points = [p for p in curve if p.get("loss") is not None]
    if not points:
        return None
    # Steps restart per stage (sft, then dpo): lay the stages end to end.
    offsets: dict[str, int] = {}
    x_of = []
    end = 0
    for p in points:
        if p["stage"] not in offsets:
            offsets[p["stage"]] = end
        x_of.append(offsets[p["stage"]] + p["step"])
        end = max(end, x_of[-1])
    lo, hi = min(p["loss"] for p in points), max(p["loss"] for p in points)
    span_y = (hi - lo) or 1.0
    span_x = max(end - min(x_of), 1)
    x0 = min(x_of)

    def xy(x: float, y: float) -> tuple[float, float]:
        return (round(PAD + (x - x0) / span_x * (WIDTH - 2 * PAD), 1),
                round(HEIGHT - PAD - (y - lo) / span_y * (HEIGHT - 2 * PAD), 1))

    stages: dict[str, list[tuple[float, float]]] = {}
    for x, p in zip(x_of, points, strict=True):
        stages.setdefault(p["stage"], []).append(xy(x, p["loss"]))
    return {
        "width": WIDTH, "height": HEIGHT, "pad": PAD,
        "lines": [{"stage": s, "points": " ".join(f"{a},{b}" for a, b in pts)} for s, pts in stages.items()],
        "min_loss": round(lo, 4), "max_loss": round(hi, 4), "first_step": x0, "last_step": end,
        "last": points[-1],
    }
