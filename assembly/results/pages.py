"""Results page for participants and facilitators: opinion map, groups, consensus, uncertainty.

The map is SVG rendered on the server, so it works without JavaScript and on a
phone; htmx refreshes the panel while the page is open, so new clustering runs
show up without a reload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, render_template
from sqlmodel import select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.htmx import page_or_fragment
from assembly.models import Job, JobStatus, Statement
from assembly.results.disclosure import disclosure, public_result
from assembly.results.runs import latest_run, result_of
from assembly.results.standing import where_i_stand
from assembly.voting.identity import current_participant
from assembly.voting.latest_votes import latest_votes
from assembly.voting.rules import visible

bp = Blueprint("results", __name__)

MAP_POINTS = 2500  # more points than this add nothing visible; sample evenly instead
UNCERTAIN_MIN_SEEN = 5
GROUP_COLOURS = ("#1b6ac9", "#d1495b", "#2a9d5c", "#e09f1f", "#7b4fb5", "#3aa6b9", "#8c564b", "#6b7280")


@dataclass
class MapPoint:
    x: float
    y: float
    group: int | None


def _scale(points: list[tuple[float, float]], size: float = 300.0, pad: float = 12.0):
    """Map data coordinates into a square SVG viewBox, keeping the aspect ratio."""
    if not points:
        return lambda x, y: (size / 2, size / 2)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    k = (size - 2 * pad) / span
    return lambda x, y: (size / 2 + (x - cx) * k, size / 2 - (y - cy) * k)


def map_points(result: dict[str, Any], me: int | None = None,
               key: str = "projections") -> tuple[list[MapPoint], MapPoint | None]:
    """Participants as (x, y, group), sampled evenly to at most MAP_POINTS; and pid `me`'s point, if placed.

    `key` picks the map: "projections" (the PCA map) or "umap" (stored by the run when it made one).
    """
    proj = result[key]
    groups = result["participants"]
    pids = sorted(proj, key=int)
    step = max(1, math.ceil(len(pids) / MAP_POINTS))
    chosen = pids[::step]
    scale = _scale([tuple(proj[p]) for p in chosen])
    out = []
    for p in chosen:
        x, y = scale(*proj[p])
        out.append(MapPoint(round(x, 1), round(y, 1), groups.get(p)))
    you = None
    if me is not None and str(me) in proj:
        x, y = scale(*proj[str(me)])
        you = MapPoint(round(min(max(x, 4.0), 296.0), 1), round(min(max(y, 4.0), 296.0), 1), groups.get(str(me)))
    return out, you


@dataclass
class MapView:
    """One opinion map as the page draws it."""

    name: str  # "pca" or "umap"
    points: list[MapPoint]
    you: MapPoint | None
    trust: float | None  # trustworthiness against the full vote vectors, when the run measured it
    preferred: bool


def map_views(result: dict[str, Any], me: int | None = None) -> list[MapView]:
    """The PCA map, and the UMAP map when the run stored one; the one that keeps neighbourhoods better first.

    Both come from the stored run (the background job made the UMAP map and measured both), so
    nothing is computed here beyond scaling points into the SVG.
    """
    maps = result["method"].get("maps") or {}
    trust = maps.get("trustworthiness") or {}
    preferred = maps.get("preferred", "pca") if "umap" in result else "pca"
    views = []
    for name, key in (("pca", "projections"), ("umap", "umap")):
        if key not in result:
            continue
        points, you = map_points(result, me, key)
        views.append(MapView(name, points, you, trust.get(name), name == preferred))
    return sorted(views, key=lambda v: not v.preferred)


def summarise(result: dict[str, Any], texts: dict[int, str]) -> dict[str, Any]:
    """What the page shows, in plain numbers: per group its representative statements, consensus, uncertainty."""
    st = result["statements"]
    k = len(result["group_sizes"])
    groups = []
    for gid in range(k):
        reps = []
        for entry in result["top_repness"].get(str(gid), []):
            if int(entry["tid"]) not in texts:
                continue
            tid = str(entry["tid"])
            rep = st[tid]["repness"][str(gid)]
            agree = entry["repful-for"] == "agree"
            reps.append({
                "tid": entry["tid"],
                "text": texts.get(int(entry["tid"]), ""),
                "direction": entry["repful-for"],
                "in_group": rep["pa"] if agree else rep["pd"],
                "rest": rep["pa_out"] if agree else rep["pd_out"],
                "n": int(rep["ns"]),
            })
        groups.append({"id": gid, "label": chr(ord("A") + gid), "size": result["group_sizes"][gid],
                       "colour": GROUP_COLOURS[gid % len(GROUP_COLOURS)], "reps": reps})
    consensus = {
        direction: [{"tid": e["tid"], "text": texts.get(int(e["tid"]), ""), "share": e["p-success"],
                     "n": e["n-trials"]} for e in entries if int(e["tid"]) in texts]
        for direction, entries in result["consensus"].items()
    }
    uncertain = sorted(
        (
            {"tid": int(tid), "text": texts.get(int(tid), ""), "pass_rate": s["pass_rate"], "n": int(s["n_seen"])}
            for tid, s in st.items()
            if int(tid) in texts and s["n_seen"] >= UNCERTAIN_MIN_SEEN and not s["moderated_out"] and not s["meta"]
        ),
        key=lambda e: (-e["pass_rate"], e["tid"]),
    )[:5]
    return {"groups": groups, "consensus": consensus, "uncertain": [u for u in uncertain if u["pass_rate"] > 0]}


def _context(slug: str) -> dict[str, Any]:
    db = get_session()
    assembly = load_assembly(slug)
    run = latest_run(db, assembly.id)
    job = db.exec(
        select(Job).where(Job.assembly_id == assembly.id, Job.kind == "cluster").order_by(Job.id.desc())
    ).first()
    ctx: dict[str, Any] = {"assembly": assembly, "run": run, "job": job, "JobStatus": JobStatus}
    if run is not None:
        result = result_of(run)
        rule = disclosure(result)
        result = public_result(result, rule)  # nothing per group until every group is big enough
        # Only statements open for voting: one rejected after the run must vanish from the page now,
        # not at the next run.
        statements = db.exec(select(Statement).where(Statement.assembly_id == assembly.id)).all()
        texts = {s.tid: s.text for s in statements if visible(s, assembly)}
        participant = current_participant(db, assembly)
        views = map_views(result, participant.pid if participant else None)
        you = views[0].you
        standing = None
        if participant is not None:
            by_id = {s.id: s.tid for s in statements}
            mine = {by_id[sid]: v for (_p, sid), v in latest_votes(db, assembly.id, participant.id).items()}
            standing = where_i_stand(result, participant.pid, mine, texts)
        ctx.update(summary=summarise(result, texts), maps=views, you=you, standing=standing,
                   colours=GROUP_COLOURS, method=result["method"], groups_rule=rule)
    return ctx


@bp.get("/a/<slug>/results")
def page(slug: str):
    ctx = _context(slug)
    template = page_or_fragment("results/page.html", "results/_panel.html")
    return render_template(template, **ctx)


def init_app(app: Flask) -> None:
    from assembly.results import report

    app.register_blueprint(bp)
    report.init_app(app)
