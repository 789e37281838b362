"""Clustering in the app: planted groups found, stored with provenance, stable, used by routing and pages."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from assembly.models import Assembly, ClusteringRun, Job, JobStatus
from assembly.results.runs import groups_by_pid, latest_run, priorities, run_clustering
from assembly.voting.next_statement import next_with_progress
from assembly.voting.rules import AssemblyError, add_statement, create_participant, record_vote


def planted(db, n_per_group: int = 12) -> tuple[Assembly, dict[int, int]]:
    """Two planted groups: A agrees with 0-3 and rejects 4-7, B the opposite; all agree with 8."""
    a = Assembly(slug="planted", title="Planted", question="?")
    db.add(a)
    db.commit()
    for i in range(9):
        add_statement(db, a, f"Statement number {i} <b>bold</b>", is_seed=True)
    truth = {}
    for group in (0, 1):
        for _ in range(n_per_group):
            p = create_participant(db, a)
            truth[p.pid] = group
            for tid in range(8):
                agrees = (tid < 4) == (group == 0)
                record_vote(db, a, p, tid, 1 if agrees else -1)
            record_vote(db, a, p, 8, 1)
    return a, truth


def same_partition(found: dict[int, int], truth: dict[int, int]) -> bool:
    pairs = {(found[p], truth[p]) for p in truth}
    return len(pairs) == 2 and len({f for f, _ in pairs}) == 2


def test_planted_groups_are_found_and_stored_with_provenance(db):
    a, truth = planted(db)
    run = run_clustering(db, a, device="cpu")
    assert (run.n_participants, run.n_votes) == (24, 24 * 9)
    assert len(run.vote_snapshot_hash) == 64 and run.last_vote_id > 0
    assert same_partition(groups_by_pid(db, a.id), truth)
    prio = priorities(db, a.id)
    assert set(prio) == set(range(9)) and all(v >= 0 for v in prio.values())


def test_labels_stay_stable_when_votes_arrive(db):
    a, truth = planted(db)
    first = groups_by_pid(db, run_clustering(db, a, device="cpu").assembly_id)
    p = create_participant(db, a)
    for tid in range(9):
        record_vote(db, a, p, tid, 1 if tid < 4 or tid == 8 else -1)
    run_clustering(db, a, device="cpu")
    second = groups_by_pid(db, a.id)
    assert all(second[pid] == first[pid] for pid in first)
    assert second[p.pid] == first[next(q for q, g in truth.items() if g == 0)]


def test_nothing_to_cluster_is_a_clear_error(db):
    a = Assembly(slug="empty", title="Empty", question="?")
    db.add(a)
    db.commit()
    with pytest.raises(AssemblyError, match="no votes"):
        run_clustering(db, a)


def test_routing_prefers_high_priority_statements(db):
    a, _truth = planted(db)
    run_clustering(db, a, device="cpu")
    newcomer = create_participant(db, a)
    import random

    picks = [next_with_progress(db, a, newcomer, priorities={0: 1000.0, 1: 1e-6}, rng=random.Random(i))[0].tid
             for i in range(30)]
    assert picks.count(0) > 20


def test_votes_trigger_one_debounced_background_run(app, db):
    a, _truth = planted(db)
    app.config.update(CLUSTERING_AUTO=True, CLUSTERING_DEBOUNCE_S=0.1)
    client = app.test_client()
    with app.test_request_context():
        p = create_participant(db, a)
        for tid in range(3):
            record_vote(db, a, p, tid, 1)
    app.extensions["jobs"].wait(60)
    jobs = db.exec(select(Job).where(Job.assembly_id == a.id)).all()
    assert [(j.kind, j.status) for j in jobs] == [("cluster", JobStatus.done)]
    assert latest_run(db, a.id) is not None
    # Another worker's run for the same votes finds them covered and skips.
    from assembly.results.runs import schedule

    schedule(app, a.id)
    app.extensions["jobs"].wait(60)
    second = db.exec(select(Job).where(Job.assembly_id == a.id).order_by(Job.id.desc())).first()
    assert second.status == JobStatus.done and second.message.startswith("up to date")
    assert len(db.exec(select(ClusteringRun)).all()) == 1
    page = client.get("/a/planted/results")
    assert page.status_code == 200


def test_results_page_shows_groups_and_escapes_text(client, db):
    a, _truth = planted(db)
    assert "No opinion groups yet" in client.get("/a/planted/results").get_data(as_text=True)
    run_clustering(db, a, device="cpu")
    html = client.get("/a/planted/results").get_data(as_text=True)
    assert "Group A" in html and "Group B" in html and "<circle" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    partial = client.get("/a/planted/results", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "Group A" in partial
    assert client.get("/a/nope/results").status_code == 404


def test_cluster_cli_prints_json(runner, db):
    planted(db)
    out = runner.invoke(args=["cluster", "planted", "--device", "cpu", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert len(result["group_sizes"]) == 2 and len(result["participants"]) == 24
    assert db.exec(select(ClusteringRun)).first() is not None
    bad = runner.invoke(args=["cluster", "missing"])
    assert bad.exit_code != 0 and "no assembly" in bad.output


def test_polis_export_carries_the_clustering_groups(runner, db, tmp_path):
    import csv

    a, _truth = planted(db)
    run_clustering(db, a, device="cpu")
    out = runner.invoke(args=["polis", "export", "planted", str(tmp_path / "x")])
    assert out.exit_code == 0, out.output
    with open(tmp_path / "x" / "participants-votes.csv", encoding="utf-8") as f:
        exported = {int(r["participant"]): int(r["group-id"]) for r in csv.DictReader(f)}
    assert exported == groups_by_pid(db, a.id)
    with open(tmp_path / "x" / "comment-groups.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert "group-a-agrees" in header and "group-b-agrees" in header


def test_constitution_builds_from_the_stored_clustering(db):
    from assembly.constitution.groups import NoGroupsError, current_groups

    a, _truth = planted(db)
    with pytest.raises(NoGroupsError, match="flask cluster planted"):
        current_groups(db, a)
    run = run_clustering(db, a, device="cpu")
    groups, info = current_groups(db, a)
    assert len(groups) == 24 and set(groups.values()) == {0, 1}
    assert info["run_id"] == run.id and info["hash"] == run.vote_snapshot_hash


def test_api_results_include_the_newest_run(client, db):
    a, _truth = planted(db)
    assert client.get("/api/assemblies/planted/results").get_json()["clustering"] is None
    run = run_clustering(db, a, device="cpu")
    body = client.get("/api/assemblies/planted/results").get_json()["clustering"]
    assert body["run_id"] == run.id and body["vote_snapshot_hash"] == run.vote_snapshot_hash
    assert len(body["result"]["group_sizes"]) == 2 and len(body["result"]["participants"]) == 24


def test_statement_rejected_after_the_run_leaves_the_results_page_at_once(client, db):
    from assembly.models import Moderation, Statement

    a, _truth = planted(db)
    run_clustering(db, a, device="cpu")
    assert "Statement number 8" in client.get("/a/planted/results").get_data(as_text=True)  # common ground
    st = db.exec(select(Statement).where(Statement.assembly_id == a.id, Statement.tid == 8)).one()
    st.moderation = Moderation.rejected
    db.add(st)
    db.commit()
    html = client.get("/a/planted/results").get_data(as_text=True)
    assert "Statement number 8" not in html and "Group A" in html


def test_moderation_change_reclusters_even_without_new_votes(app, db, auth):
    """Rejecting a statement zeroes it in the clustering: a run follows, though no vote arrived."""
    from assembly.models import Facilitator
    from assembly.results.runs import up_to_date

    a, _truth = planted(db)
    a.owner_id = db.exec(select(Facilitator)).first().id
    auth.login()
    db.add(a)
    db.commit()
    first = run_clustering(db, a, device="cpu")
    assert up_to_date(db, first)
    app.config.update(CLUSTERING_AUTO=True, CLUSTERING_DEBOUNCE_S=0.1)
    r = auth.client.post("/facilitate/planted/statements/0/moderate", data={"action": "reject"})
    assert r.status_code in (200, 302)
    app.extensions["jobs"].wait(60)
    newest = latest_run(db, a.id)
    assert newest.id != first.id and not up_to_date(db, first)
    assert newest.last_vote_id == first.last_vote_id
    assert json.loads(newest.result_json)["statements"]["0"]["moderated_out"] is True
    assert up_to_date(db, newest)


def test_polis_import_with_votes_csv_replays_the_history(runner, db):
    from tests.test_polis_cli import CLASSIC

    result = runner.invoke(args=["polis", "import", str(CLASSIC), "--slug", "replayed"])
    assert result.exit_code == 0, result.output
    assert "replayed the vote history in" in result.output
    a = db.exec(select(Assembly).where(Assembly.slug == "replayed")).one()
    method = json.loads(latest_run(db, a.id).result_json)["method"]
    assert method["replay"]["updates"] >= 2 and method["replay"]["events"] == 9
    assert sorted(method["in_conv"]) == [0, 1, 2]  # carried on by the next background run

    result = runner.invoke(args=["polis", "import", str(CLASSIC), "--slug", "plain", "--no-replay"])
    assert result.exit_code == 0 and "replayed" not in result.output
    assert latest_run(db, db.exec(select(Assembly).where(Assembly.slug == "plain")).one().id) is None
