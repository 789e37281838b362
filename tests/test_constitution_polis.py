"""The constitution on real Polis conversations, with Polis's own groups: every figure recomputes from votes.csv."""

from __future__ import annotations

import hashlib
import json
import re

import jsonschema
import numpy as np
import pytest
from sqlmodel import Session

from app import create_app
from assembly.constitution.build import build_draft
from assembly.constitution.export import to_json, to_markdown
from assembly.constitution.groups import groups_from_polis_export
from assembly.constitution.versions import content_hash, publish
from assembly.migrate import upgrade
from tests.conftest import ROOT, need_shared
from tests.constitution_loader import latest_from_csv, load_polis, polis_groups, read_rows

pytestmark = pytest.mark.shared
SCHEMA = json.loads((ROOT / "docs" / "constitution.schema.json").read_text())


@pytest.fixture(scope="module", params=[("vtaiwan.uberx", "zh-Hant-TW"), ("brexit-consensus", "en")])
def built(request, databases):
    """(export folder, exported document, markdown) for one conversation, published as version 1."""
    folder = need_shared() / request.param[0]
    url = databases.acquire()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "t"})
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = load_polis(db, folder, "conv", request.param[1])
        groups, info = groups_from_polis_export(db, a, folder)
        version = publish(db, build_draft(db, a, groups, info))
        out = folder, json.loads(to_json(version)), to_markdown(version)
    app.extensions["assembly_engine"].dispose()
    databases.release(url)
    return out


def recount(folder):
    """{tid: (overall [agree, disagree, pass], {group: [agree, disagree, pass]})} straight from the CSVs."""
    latest, groups = latest_from_csv(folder), polis_groups(folder)
    group_ids = sorted(set(groups.values()))
    out = {int(r["comment-id"]): ([0, 0, 0], {g: [0, 0, 0] for g in group_ids})
           for r in read_rows(folder, "comments.csv")}
    for (pid, tid), v in latest.items():
        i = {1: 0, -1: 1, 0: 2}[v]
        out[tid][0][i] += 1
        if pid in groups:
            out[tid][1][groups[pid]][i] += 1
    return out, latest, groups


def all_evidence(doc):
    for p in doc["principles"]:
        yield from p["statements"]
    for e in doc["excluded"]:
        yield e["evidence"]


def test_export_matches_schema_and_hash(built):
    _folder, doc, _md = built
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    body = {k: v for k, v in doc.items() if k != "content_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["content_hash"] == hashlib.sha256(canonical).hexdigest() == content_hash(doc)


def test_every_figure_recomputes_from_the_votes(built):
    folder, doc, _md = built
    counts, latest, groups = recount(folder)
    evidence = list(all_evidence(doc))
    assert len(evidence) == len(counts)
    for ev in evidence:
        (a, d, p), per_group = counts[ev["tid"]]
        assert ev["votes"] == {"agree": a, "disagree": d, "pass": p, "seen": a + d + p,
                               "agree_share": a / (a + d + p) if a + d + p else None}, ev["tid"]
        expected_gic = 1.0
        for g_ev, g in zip(ev["groups"], sorted(per_group), strict=True):
            ga, gd, gp = per_group[g]
            assert (g_ev["group"], g_ev["agree"], g_ev["disagree"], g_ev["pass"]) == (g, ga, gd, gp)
            assert g_ev["smoothed"] == (ga + 1) / (ga + gd + gp + 2)
            expected_gic *= (ga + 1) / (ga + gd + gp + 2)
        assert ev["gic"] == expected_gic
    process = doc["process"]
    rows = sorted(latest.items())
    digest = hashlib.sha256(np.array([k[0] for k, _ in rows], dtype="<i8").tobytes()
                            + np.array([k[1] for k, _ in rows], dtype="<i8").tobytes()
                            + np.array([v for _, v in rows], dtype="<i1").tobytes()).hexdigest()
    assert process["vote_snapshot"] == {"count": len(latest), "sha256": digest}
    assert process["vote_events"] == len(read_rows(folder, "votes.csv"))
    assert process["voters"] == len({pid for pid, _ in latest})
    sizes = {g: sum(1 for x in groups.values() if x == g) for g in set(groups.values())}
    assert {g["id"]: g["size"] for g in process["clustering"]["groups"]} == sizes
    k = len(sizes)
    assert process["consensus"]["k"] == k and process["consensus"]["gic_threshold"] == process["consensus"]["tau"] ** k


def test_no_principle_comes_from_a_statement_some_group_rejects(built):
    _folder, doc, _md = built
    cons = doc["process"]["consensus"]
    assert doc["principles"], "a real conversation with consensus statements gives at least one principle"
    for p in doc["principles"]:
        for s in p["statements"]:
            assert s["gic"] >= cons["gic_threshold"]
            for g in s["groups"]:
                assert g["agree"] > g["disagree"] and g["smoothed"] >= cons["floor"], (p["id"], g)


def test_principles_and_exclusions_account_for_every_statement(built):
    folder, doc, _md = built
    comments = read_rows(folder, "comments.csv")
    in_principles = [s["tid"] for p in doc["principles"] for s in p["statements"]]
    excluded = [e["tid"] for e in doc["excluded"]]
    assert sorted(in_principles + excluded) == sorted(int(r["comment-id"]) for r in comments)
    accepted = {int(r["comment-id"]) for r in comments if r["moderated"] == "1"}
    for e in doc["excluded"]:
        assert (e["reason"] == "moderated_out") == (e["tid"] not in accepted), e
        if e["reason"] == "divisive":
            assert e["groups"], e
    assert set(in_principles) <= accepted


def test_markdown_footnotes_every_source_statement(built):
    _folder, doc, md = built
    notes = re.findall(r"^\[\^(\d+)\]: Statement #(\d+)", md, flags=re.MULTILINE)
    assert [int(t) for _n, t in notes] == [s["tid"] for p in doc["principles"] for s in p["statements"]]
    assert doc["content_hash"] in md
