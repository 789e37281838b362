"""The UMAP map on the results page: made by the clustering run (not the request), capped, measured, chosen.

The run stores the UMAP map and both maps' trustworthiness (clustering/umap_view.py); the page
draws the stored maps, the better-preserving one first. numba compiles UMAP's kernels on first
use (~40 s on the 2-core machine), so the tests that make a real UMAP map are marked `slow`;
the others run with CLUSTERING_UMAP_MAX set so that no UMAP is made.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import Session, select

from assembly.models import Assembly
from assembly.results.pages import map_views
from assembly.results.runs import result_of, run_clustering
from clustering import ClusterConfig, cluster
from clustering.umap_view import with_umap_view
from tests.conftest import make_app
from tests.test_clustering import _two_camps
from tests.test_clustering_runs import planted

EN = {"Accept-Language": "en"}


def _planted_app(database_url, umap_max: int):
    app = make_app(database_url, CLUSTERING_UMAP_MAX=umap_max, RESULTS_MIN_GROUP_SIZE=3)
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a, _truth = planted(db, n_per_group=12)  # 24 participants
        run = run_clustering(db, a, device="cpu")  # umap_max from the app's CLUSTERING_UMAP_MAX
        stored = json.loads(run.result_json)
    return app, stored


@pytest.mark.parametrize("umap_max", [0, 23])  # off, and a cap one below the assembly's 24 participants
def test_no_umap_map_when_off_or_over_the_cap(database_url, umap_max):
    app, stored = _planted_app(database_url, umap_max)
    assert "umap" not in stored and "maps" not in stored["method"]
    html = app.test_client().get("/a/planted/results", headers=EN).text
    assert html.count('class="map-view"') == 1 and 'data-map="pca"' in html
    assert "UMAP map" not in html
    app.extensions["assembly_engine"].dispose()


def _result_with_maps(preferred: str) -> dict:
    pts = {"1": [0.0, 0.0], "2": [1.0, 1.0], "3": [2.0, 0.5]}
    return {"projections": pts, "umap": {p: [y, x] for p, (x, y) in pts.items()},
            "participants": {"1": 0, "2": 1, "3": None},
            "method": {"maps": {"preferred": preferred, "trustworthiness": {"pca": 0.8, "umap": 0.7}}}}


@pytest.mark.parametrize("preferred", ["pca", "umap"])
def test_the_map_that_keeps_neighbourhoods_better_comes_first(preferred):
    views = map_views(_result_with_maps(preferred), me=2)
    assert views[0].name == preferred and {v.name for v in views} == {"pca", "umap"}
    assert [v.preferred for v in views] == [True, False]
    assert {v.name: v.trust for v in views} == {"pca": 0.8, "umap": 0.7}
    assert all(v.you is not None for v in views)  # "you are here" on both maps


def test_umap_view_refuses_another_conversations_votes():
    vm = _two_camps()
    res = cluster(vm, ClusterConfig(device="cpu"))
    other = _two_camps(n_per=20)
    with pytest.raises(ValueError, match="participants are not the result's"):
        with_umap_view(res, other)


@pytest.mark.slow
def test_run_stores_umap_and_trustworthiness_and_the_page_shows_both_maps(database_url):
    app, stored = _planted_app(database_url, umap_max=1000)
    maps = stored["method"]["maps"]
    assert set(stored["umap"]) == set(stored["projections"])
    assert np.isfinite(np.array(list(stored["umap"].values()))).all()
    trust = maps["trustworthiness"]
    assert set(trust) == {"pca", "umap"} and all(0 <= t <= 1 for t in trust.values())
    assert maps["preferred"] == ("umap" if trust["umap"] > trust["pca"] else "pca")
    assert maps["seconds"]["umap"] > 0
    # The groups never come from the map: the run without UMAP groups everyone the same way.
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "planted")).one()
        plain = result_of(run_clustering(db, a, device="cpu", umap_max=0))
    assert plain["participants"] == stored["participants"]

    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        run_clustering(db, a, device="cpu")  # newest run has the UMAP map again
    html = app.test_client().get("/a/planted/results", headers=EN).text
    assert html.count('class="map-view"') == 2 and 'data-map="umap"' in html and 'data-map="pca"' in html
    assert "UMAP map" in html and "PCA map" in html
    first = html.index('data-map="')
    assert html[first:].startswith(f'data-map="{maps["preferred"]}"')
    umap_svg = html[html.index('data-map="umap"'):]
    umap_svg = umap_svg[:umap_svg.index("</figure>")]
    assert umap_svg.count("<circle") == 24
    assert f"{trust['umap']:.2f}" in html and f"{trust['pca']:.2f}" in html
    app.extensions["assembly_engine"].dispose()
