"""Tiny groups reveal individuals: groups are shown only once each has RESULTS_MIN_GROUP_SIZE participants."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from assembly.results.runs import run_clustering
from assembly.settings import resolve
from tests.conftest import make_app
from tests.test_clustering_runs import planted

EN = {"Accept-Language": "en"}


@pytest.fixture
def strict_app(database_url):
    """Planted groups have 3 people each; this app wants 5."""
    app = make_app(database_url, RESULTS_MIN_GROUP_SIZE=5)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=3)
        run_clustering(db, a, device="cpu")
    yield app
    app.extensions["assembly_engine"].dispose()


def test_results_page_hides_small_groups_and_says_why(strict_app):
    html = strict_app.test_client().get("/a/planted/results", headers=EN).text
    assert "Group A" not in html and "of this group agreed" not in html
    assert "at least 5 participants" in html and "The smallest group has 3 now." in html
    assert "6 participants" in html  # whole-assembly figures stay
    assert "Statement number 8" in html  # so does common ground


def test_api_leaves_out_per_group_figures(strict_app):
    body = strict_app.test_client().get("/api/assemblies/planted/results").get_json()["clustering"]["result"]
    assert body["groups_hidden"] == {"min_group_size": 5, "smallest_group": 3}
    assert body["group_sizes"] == [] and body["top_repness"] == {}
    assert set(body["participants"].values()) == {None}
    assert all("repness" not in st for st in body["statements"].values())


def test_export_has_no_group_columns_while_groups_are_small(strict_app, tmp_path):
    out = strict_app.test_cli_runner().invoke(args=["polis", "export", "planted", str(tmp_path / "x")])
    assert out.exit_code == 0, out.output
    with open(tmp_path / "x" / "participants-votes.csv", encoding="utf-8") as f:
        assert {r["group-id"] for r in csv.DictReader(f)} == {""}
    with open(tmp_path / "x" / "comment-groups.csv", encoding="utf-8") as f:
        assert not any(h.startswith("group-a") for h in next(csv.reader(f)))


def test_big_enough_groups_are_shown_with_plural_forms(database_url):
    app = make_app(database_url, RESULTS_MIN_GROUP_SIZE=3)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=3)
        run_clustering(db, a, device="cpu")
    html = app.test_client().get("/a/planted/results", headers=EN).text
    assert "Group A" in html and "(3 people)" in html and "2 opinion groups" in html
    assert "smallest group" not in html
    body = app.test_client().get("/api/assemblies/planted/results").get_json()["clustering"]["result"]
    assert "groups_hidden" not in body and sorted(body["group_sizes"]) == [3, 3]


def test_one_person_is_one_person(database_url):
    app = make_app(database_url, RESULTS_MIN_GROUP_SIZE=1)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=1)
        run_clustering(db, a, device="cpu")
    html = app.test_client().get("/a/planted/results", headers=EN).text
    assert "1 people" not in html and "1 votes" not in html


def test_times_are_shown_in_the_time_zone_setting(database_url):
    app = make_app(database_url, TIME_ZONE="Asia/Taipei", RESULTS_MIN_GROUP_SIZE=3)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=3)
        run = run_clustering(db, a, device="cpu")
        run.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        db.add(run)
        db.commit()
    html = app.test_client().get("/a/planted/results", headers=EN).text
    assert "Mar 2, 2026, 7:30:00" in html and "UTC" not in html  # 23:30 UTC is 07:30 the next day in Taipei


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="TIME_ZONE"):
        resolve({"TIME_ZONE": "Mars/Olympus"}, environ={})
    with pytest.raises(ValueError, match="RESULTS_MIN_GROUP_SIZE"):
        resolve({"RESULTS_MIN_GROUP_SIZE": 0}, environ={})


def test_where_do_i_stand_from_the_stored_run(app, client, db):
    """A participant who votes with group A except on statement 2 sees their group, the map mark and statement 2."""
    a, _truth = planted(db)
    for tid in range(9):
        agrees = tid < 4 or tid == 8
        value = -1 if tid == 2 else (1 if agrees else -1)
        assert client.post("/a/planted/vote", data={"tid": tid, "value": value}).status_code == 302
    html = client.get("/a/planted/results", headers=EN).text
    assert "Where do you stand?" not in html  # no stored run yet: nothing is computed on the request
    run_clustering(db, a, device="cpu")
    html = client.get("/a/planted/results", headers=EN).text
    assert "Where do you stand?" in html and 'class="you-are-here"' in html and "you are here" in html
    group = re.search(r"You are in group ([AB])\.", html).group(1)
    differs = re.search(r'<ul class="differences">(.*?)</ul>', html, re.S).group(1)
    assert "Statement number 2 " in differs and "You disagreed; 8% of your group did." in differs  # 1 of 13: only me
    assert "Statement number 0 " not in differs  # voted like the group there
    assert f"Group {group}" in html
    other = app.test_client().get("/a/planted/results", headers=EN).text  # someone who has not voted
    assert "you-are-here" not in other and "Where do you stand?" not in other
