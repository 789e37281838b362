"""The report page (/a/SLUG/report), like Polis's: every statement by group, participation, common ground.

Everything comes from the newest stored clustering run: per-group vote counts, the consensus
list, and the participation per day the run recorded when it was made (`participation`), so the
page only reads and renders. It follows the results page's rule for small groups
(`disclosure.py`): until every group is big enough it shows whole-assembly figures only. The
bars are server-rendered SVG with their figures in text too, so the page works without
JavaScript, in print and for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, has_app_context, render_template
from sqlalchemy import distinct, func
from sqlmodel import Session, select

from assembly.assemblies import load_assembly
from assembly.db import get_session
from assembly.models import Statement, Vote
from assembly.results.disclosure import disclosure, public_result
from assembly.results.pages import GROUP_COLOURS, summarise
from assembly.results.runs import latest_run, result_of
from assembly.voting.rules import visible

bp = Blueprint("report", __name__)

DAY_MS = 86_400_000
MAX_FILLED_DAYS = 731  # zero days between the first and last are drawn up to two years; beyond, voting days only


def participation_by_day(db: Session, assembly_id: int, time_zone: str | None = None) -> list[dict[str, Any]]:
    """[{day, votes, participants}] per local day from the first vote to the last, zero days included.

    `participants` counts those who voted that day. Days are in `time_zone` (default: the TIME_ZONE
    setting) at its offset now, exact for zones without daylight saving (Asia/Taipei, UTC).
    Recorded by each clustering run, so the report never aggregates votes on a request.
    """
    if time_zone is None:
        time_zone = current_app.config["TIME_ZONE"] if has_app_context() else "UTC"
    offset = ZoneInfo(time_zone).utcoffset(datetime.now(UTC))
    offset_ms = int(offset.total_seconds() * 1000) if offset else 0
    day_number = (Vote.created_ms + offset_ms) // DAY_MS
    rows = db.exec(
        select(day_number, func.count(), func.count(distinct(Vote.participant_id)))
        .where(Vote.assembly_id == assembly_id).group_by(day_number).order_by(day_number)
    ).all()
    epoch = date(1970, 1, 1)
    by_day = {epoch + timedelta(days=int(d)): (int(v), int(p)) for d, v, p in rows}
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    span = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(span)] if span <= MAX_FILLED_DAYS else sorted(by_day)
    return [{"day": d.isoformat(), "votes": by_day.get(d, (0, 0))[0], "participants": by_day.get(d, (0, 0))[1]}
            for d in days]


@dataclass
class Split:
    """One bar: agree / disagree / pass among those who saw the statement."""

    label: str  # "" for everyone, else the group's letter
    colour: str
    seen: int
    agree: int
    disagree: int

    @property
    def passed(self) -> int:
        return max(self.seen - self.agree - self.disagree, 0)

    def share(self, n: int) -> float:
        return n / self.seen if self.seen else 0.0


@dataclass
class StatementReport:
    tid: int
    text: str
    everyone: Split
    groups: list[Split]
    consensus: str | None  # "agree" / "disagree" when it is on the consensus list


def statement_reports(result: dict[str, Any], texts: dict[int, str]) -> list[StatementReport]:
    """Every statement open for voting, with its bar for everyone and one per group (none while groups are hidden).

    `result` is already cut by the disclosure rule; `texts` holds the statements open for voting.
    """
    k = len(result["group_sizes"])
    on_list = {int(e["tid"]): direction for direction, entries in result["consensus"].items() for e in entries}
    out = []
    for tid_s, st in sorted(result["statements"].items(), key=lambda kv: int(kv[0])):
        tid = int(tid_s)
        if tid not in texts or st["moderated_out"]:
            continue
        everyone = Split("", "#444", int(st["n_seen"]), int(st["n_agree"]), int(st["n_disagree"]))
        groups = []
        for g in range(k):
            rep = st.get("repness", {}).get(str(g))
            if rep is None:
                continue
            groups.append(Split(chr(ord("A") + g), GROUP_COLOURS[g % len(GROUP_COLOURS)],
                                int(rep["ns"]), int(rep["na"]), int(rep["nd"])))
        out.append(StatementReport(tid, texts[tid], everyone, groups, on_list.get(tid)))
    return out


@dataclass
class DayChart:
    """Bar geometry for one per-day series, drawn by the template as inline SVG."""

    bars: list[tuple[str, int, float, float]]  # (day, value, x, height)
    top: int
    width: int
    height: int
    bar_width: float


def day_chart(days: list[dict[str, Any]], key: str, width: int = 600, height: int = 100) -> DayChart:
    """Bars for `key` ("votes" or "participants") over the recorded days."""
    top = max((d[key] for d in days), default=0)
    slot = width / max(len(days), 1)
    bars = [(d["day"], d[key], round(i * slot, 2), round(height * d[key] / top, 2) if top else 0.0)
            for i, d in enumerate(days)]
    return DayChart(bars, top, width, height, round(max(slot * 0.8, 0.5), 2))


@bp.get("/a/<slug>/report")
def report(slug: str):
    """The report: read from the newest stored run, rendered on the server."""
    db = get_session()
    assembly = load_assembly(slug)
    run = latest_run(db, assembly.id)
    ctx: dict[str, Any] = {"assembly": assembly, "run": run, "nav_here": "report"}
    if run is not None:
        rule = disclosure(result_of(run))
        result = public_result(result_of(run), rule)
        statements = db.exec(select(Statement).where(Statement.assembly_id == assembly.id)).all()
        texts = {s.tid: s.text for s in statements if visible(s, assembly)}
        days = result.get("participation")
        ctx.update(
            groups_rule=rule, summary=summarise(result, texts), rows=statement_reports(result, texts),
            days=days, votes_chart=day_chart(days or [], "votes"),
            people_chart=day_chart(days or [], "participants"),
        )
    return render_template("results/report.html", **ctx)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
