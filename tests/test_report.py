"""The report page (/a/SLUG/report): every statement by group, participation per day, common ground.

Read from the newest stored run only; the small-group rule of the results page applies; statement
text is escaped; the page is in the assembly navigation and translated.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from assembly.models import Assembly, ClusteringRun, Vote
from assembly.results.runs import result_of, run_clustering
from tests.conftest import make_app
from tests.test_clustering_runs import planted

EN = {"Accept-Language": "en"}
DAY_MS = 86_400_000


def _app(database_url, **config):
    """The planted assembly (2 groups of 4) clustered once, its votes spread over three days."""
    app = make_app(database_url, **config)
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=4)
        votes = db.exec(select(Vote).where(Vote.assembly_id == a.id).order_by(Vote.id)).all()
        base = 1_780_000_000_000 // DAY_MS * DAY_MS  # midnight UTC
        for i, v in enumerate(votes):  # the first 20 votes on day 0, the rest on day 2 (day 1 empty)
            v.created_ms = base + (0 if i < 20 else 2 * DAY_MS) + i
            db.add(v)
        db.commit()
        run_clustering(db, a, device="cpu")
    return app


def test_report_breaks_every_statement_down_by_group(database_url):
    app = _app(database_url, RESULTS_MIN_GROUP_SIZE=3)
    html = app.test_client().get("/a/planted/report", headers=EN).text
    # 9 statements; each has a bar for everyone and one per group (2 groups).
    assert html.count('class="report-statement"') == 9
    assert html.count('class="split"') == 9 * 3
    assert "Group A" in html and "Group B" in html
    # Statement 0: group A all agreed, group B all disagreed; everyone 50/50.
    first = html[html.index('class="report-statement"'):]
    first = first[:first.index("</li>")]
    figures = re.findall(r'class="split-figures">([^<]*)<', first)
    assert figures[0].startswith("50% agreed, 50% disagreed, 0% passed · 8 votes")
    assert sorted(f.split(" · ")[0] for f in figures[1:]) == ["0% agreed, 100% disagreed, 0% passed",
                                                             "100% agreed, 0% disagreed, 0% passed"]
    # Statement 8 (everyone agreed) is on the common-ground list, and marked as such.
    assert "Common ground" in html and "common ground: agreed" in html


def test_report_escapes_statement_text(database_url):
    app = _app(database_url, RESULTS_MIN_GROUP_SIZE=3)
    html = app.test_client().get("/a/planted/report", headers=EN).text
    # planted()'s statements carry "<b>bold</b>": shown as text, never as markup.
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html


def test_report_hides_groups_until_each_is_big_enough(database_url):
    app = _app(database_url, RESULTS_MIN_GROUP_SIZE=5)  # groups of 4
    html = app.test_client().get("/a/planted/report", headers=EN).text
    assert "Group A" not in html and "Group B" not in html
    assert "at least 5 participants" in html and "The smallest group has 4 now." in html
    assert html.count('class="split"') == 9  # everyone's bar only
    assert "8 participants" in html


def test_report_shows_votes_and_participants_per_day_from_the_run(database_url):
    app = _app(database_url, RESULTS_MIN_GROUP_SIZE=3)
    with Session(app.extensions["assembly_engine"]) as db:
        run = db.exec(select(ClusteringRun)).one()
        days = result_of(run)["participation"]
    assert [d["votes"] for d in days] == [20, 0, 52]
    assert [d["participants"] for d in days] == [3, 0, 6]  # 9 votes each: voters 1-3 on day 0, 3-8 on day 2
    html = app.test_client().get("/a/planted/report", headers=EN).text
    assert "Votes per day" in html and "Participants who voted, per day" in html
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>(\d+)</td><td>(\d+)</td></tr>", html)
    assert [(v, p) for _d, v, p in rows] == [("20", "3"), ("0", "0"), ("52", "6")]


def test_report_before_any_run_and_for_an_unknown_assembly(database_url):
    app = make_app(database_url)
    with Session(app.extensions["assembly_engine"]) as db:
        db.add(Assembly(slug="quiet", title="Quiet", question="?"))
        db.commit()
    client = app.test_client()
    page = client.get("/a/quiet/report", headers=EN)
    assert page.status_code == 200 and "No report yet" in page.text
    assert client.get("/a/nowhere/report", headers=EN).status_code == 404


def test_report_is_in_the_navigation_printable_and_translated(database_url):
    app = _app(database_url, RESULTS_MIN_GROUP_SIZE=3)
    client = app.test_client()
    results = client.get("/a/planted/results", headers=EN).text
    assert 'href="/a/planted/report"' in results
    zh = client.get("/a/planted/report", headers={"Accept-Language": "zh-TW"}).text
    assert "每日投票數" in zh and "報告" in zh and "Votes per day" not in zh
    css = client.get("/static/app.css").text
    assert "@media print" in css and ".assembly-nav" in css[css.index("@media print"):]
