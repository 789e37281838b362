"""Human rating on the database itself (SQLite and, in scripts/test_postgres.sh, PostgreSQL): a choice
is one row per participant and prompt, a change replaces it, the groups come from the newest
clustering run, and the bridging rule's pairs come back for the dataset builder.

The adapter, its run and its generations are arranged as rows with their answers already written
(tests/rating_support.py; the generation job and training are exercised in tests/test_rating_web.py)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from assembly.adapters.models import Generation
from assembly.domain_errors import AssemblyError
from assembly.evals import rating
from assembly.evals.rating_models import RatingChoice
from assembly.models import ClusteringRun, Job, JobStatus
from assembly.voting.rules import create_participant
from tests.rating_support import answered_round


@pytest.fixture
def arranged(db, assembly):
    """A round of two answered prompts on an adapter row, four participants in groups 0, 0, 1, 1."""
    people = [create_participant(db, assembly) for _ in range(4)]
    db.add(ClusteringRun(assembly_id=assembly.id, result_json=json.dumps(
        {"participants": {str(p.pid): g for p, g in zip(people, (0, 0, 1, 1), strict=True)}})))
    db.commit()
    rnd, prompts = answered_round(db, assembly, ("Parking?", "Trees?"))
    return rnd, prompts, people


def pick_for(rnd, prompt, participant, side: str) -> str:
    """The label ('A' or 'B') this participant must press to choose `side`."""
    return "A" if rating.adapter_first(rnd, prompt, participant) == (side == "adapter") else "B"


def test_a_choice_is_one_row_and_a_change_replaces_it(db, arranged):
    rnd, (p1, _), people = arranged
    me = people[0]
    rating.choose(db, rnd, p1.id, me, pick_for(rnd, p1, me, "adapter"))
    rating.choose(db, rnd, p1.id, me, pick_for(rnd, p1, me, "base"))
    rating.choose(db, rnd, p1.id, me, "tie")
    rows = list(db.exec(select(RatingChoice)))
    assert len(rows) == 1 and rows[0].outcome == "tie"
    assert rows[0].adapter_shown_as == ("A" if rating.adapter_first(rnd, p1, me) else "B")
    res = rating.results(db, rnd)
    assert res["win_rates"]["all"]["n"] == 1 and res["win_rates"]["all"]["tie"] == 1


def test_groups_come_from_the_newest_clustering_run_and_pairs_follow_the_bridging_rule(db, arranged, assembly):
    rnd, (p1, p2), people = arranged
    for person in people:  # everyone prefers the adapter on p1; the groups split on p2
        rating.choose(db, rnd, p1.id, person, pick_for(rnd, p1, person, "adapter"))
    for person, side in zip(people, ("adapter", "adapter", "base", "base"), strict=True):
        rating.choose(db, rnd, p2.id, person, pick_for(rnd, p2, person, side))
    res = rating.results(db, rnd)
    assert set(res["win_rates"]["groups"]) == {"A", "B"}
    assert res["win_rates"]["groups"]["A"]["win_rate"]["value"] == 1.0
    assert res["win_rates"]["groups"]["B"]["win_rate"]["value"] == 0.5  # one win, one loss
    assert [p["preferred"] for p in res["per_prompt"]] == ["adapter", None]
    from finetune.evals.rating import preference_pairs

    pairs, summary = preference_pairs(rating.rated_prompts(db, assembly))
    assert [(p["prompt"], p["chosen"], p["rejected"]) for p in pairs] == [("Parking?", "adapter 0", "base 0")]
    assert summary["rounds"][0]["split"] == 1 and pairs[0]["source"]["rating_round_id"] == rnd.id


def test_choices_on_a_closed_round_or_an_unready_prompt_are_refused(db, arranged):
    rnd, (p1, p2), people = arranged
    db.get(Job, db.get(Generation, p2.generation_id).job_id).status = JobStatus.running
    db.commit()
    with pytest.raises(AssemblyError) as exc:
        rating.choose(db, rnd, p2.id, people[0], "A")
    assert exc.value.status == 404
    rating.close_round(db, rnd)
    with pytest.raises(AssemblyError) as exc:
        rating.choose(db, rnd, p1.id, people[0], "A")
    assert exc.value.status == 409
    assert list(db.exec(select(RatingChoice))) == []
