"""Human rating through the app: a facilitator opens a round (answers made by the queued generation
job, Huey's immediate mode, tiny test model), participants rate blind at /a/SLUG/rate, one choice
per participant and prompt, win rates per opinion group in the report, JSON API and CLI, and the
choices as preference pairs in the next dataset. Refusals store nothing."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, func, select

from assembly.adapters import datasets
from assembly.adapters.models import Adapter, Dataset, Generation
from assembly.evals import rating
from assembly.evals.rating_models import RatingChoice, RatingPrompt, RatingRound
from assembly.models import Assembly, Facilitator, Participant
from assembly.results.runs import groups_by_pid, run_clustering
from tests.adapters_support import FAST, published_assembly
from tests.conftest import FACILITATOR_EMAIL, log_in, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ft(tmp_path_factory):
    """The planted assembly, clustered into its two groups, with one adapter trained for 4 steps."""
    tmp = tmp_path_factory.mktemp("rating")
    app = make_app(f"sqlite:///{tmp / 'db.sqlite'}", FINETUNE_DIR=str(tmp / "ft"), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly)).one()
        run_clustering(db, a, device="cpu")
        fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    client = app.test_client()
    log_in(client, fac.id)
    assert client.post("/facilitate/planted/train", data={**FAST, "name": "one"}).status_code == 302
    yield app, client
    app.extensions["assembly_engine"].dispose()


def db_of(app) -> Session:
    return Session(app.extensions["assembly_engine"], expire_on_commit=False)


def count(app, model) -> int:
    with db_of(app) as db:
        return db.exec(select(func.count()).select_from(model)).one()


def the_adapter(app) -> Adapter:
    with db_of(app) as db:
        return db.exec(select(Adapter)).one()


def participants(app) -> list[Participant]:
    with db_of(app) as db:
        return list(db.exec(select(Participant).order_by(Participant.id)))


def as_participant(app, participant: Participant):
    """A browser whose session cookie refers to `participant` (as after their first vote)."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["participants"] = {"planted": participant.id}
    return client


def open_round(app, client, prompts: str, tids=()) -> RatingRound:
    r = client.post("/facilitate/planted/rating",
                    data={"adapter": str(the_adapter(app).id), "prompts": prompts, "tid": [str(t) for t in tids],
                          "max_new_tokens": "8"})
    assert r.status_code == 303, r.get_data(as_text=True)
    with db_of(app) as db:
        return db.exec(select(RatingRound).order_by(RatingRound.id.desc())).first()


def prompt_rows(app, rnd) -> list[tuple[RatingPrompt, Generation]]:
    with db_of(app) as db:
        return rating.prompts_of(db, db.get(RatingRound, rnd.id))


def shown_answers(page: str) -> list[str]:
    return re.findall(r'<p class="answer-text">(.*?)</p>', page, flags=re.S)


def test_facilitator_opens_a_round_of_held_out_and_typed_prompts(ft):
    app, client = ft
    page = client.get("/facilitate/planted/rating").get_data(as_text=True)
    with db_of(app) as db:
        held = rating.heldout_statements(app, db, the_adapter(app))
    assert held and f'value="{held[0]["tid"]}"' in page
    rnd = open_round(app, client, "What should the town do about parking?\n\n", tids=[held[0]["tid"]])
    rows = prompt_rows(app, rnd)
    assert [p.heldout_tid for p, _ in rows] == [held[0]["tid"], None]
    assert held[0]["text"] in rows[0][1].prompt and rows[1][1].prompt == "What should the town do about parking?"
    assert all(g.job_id is not None and g.max_new_tokens == 8 for _, g in rows)  # answered by the queued job
    page = client.get(f"/facilitate/planted/rating/{rnd.id}").get_data(as_text=True)
    assert 'data-status="open"' in page and "2 of 2 answers ready" in page and "/a/planted/rate" in page


@pytest.mark.parametrize("form, why", [
    ({"prompts": "  \n"}, "type at least one prompt"),
    ({"prompts": "ok", "tid": ["99999"]}, "not held out"),
    ({"prompts": "x" * 4001}, "at most 4000 characters"),
    ({"prompts": "\n".join(f"p{i}" for i in range(51))}, "at most 50 prompts"),
    ({"prompts": "ok", "adapter": "424242"}, "no such adapter"),
    ({"prompts": "ok", "tid": ["x"]}, "whole number"),
    ({"prompts": "ok", "max_new_tokens": "513"}, "between 1 and 512"),
    ({"prompts": "ok", "max_new_tokens": "many"}, "whole number of tokens"),
])
def test_a_bad_round_is_refused_and_stores_nothing(ft, form, why):
    app, client = ft
    before = (count(app, RatingRound), count(app, RatingPrompt), count(app, Generation))
    r = client.post("/facilitate/planted/rating", data={"adapter": str(the_adapter(app).id), **form})
    assert r.status_code == 422 and why in r.get_data(as_text=True)
    assert (count(app, RatingRound), count(app, RatingPrompt), count(app, Generation)) == before


def _distinct_answers(app, gen: Generation) -> None:
    """The tiny model's two answers may coincide; give them texts a test can tell apart."""
    with db_of(app) as db:
        g = db.get(Generation, gen.id)
        g.base_answer, g.adapter_answer = "Build a car park.", "Ask every group first."
        db.add(g)
        db.commit()


def test_blind_order_is_random_per_participant_and_stable(ft):
    app, client = ft
    rnd = open_round(app, client, "Blind order prompt?")
    (prompt, gen), = prompt_rows(app, rnd)
    _distinct_answers(app, gen)
    firsts = []
    for p in participants(app):
        browser = as_participant(app, p)
        shown = shown_answers(browser.get("/a/planted/rate").get_data(as_text=True))
        assert shown == shown_answers(browser.get("/a/planted/rate").get_data(as_text=True))  # stable
        assert sorted(shown) == ["Ask every group first.", "Build a car park."]
        firsts.append(shown[0] == "Ask every group first.")
        with db_of(app) as db:
            assert rating.adapter_first(db.get(RatingRound, rnd.id), prompt, p) == firsts[-1]
    assert 0 < sum(firsts) < len(firsts)  # 20 participants: both orders occur (fails with chance 2 ** -19)


def test_a_choice_is_counted_once_and_a_change_replaces_it(ft):
    app, client = ft
    rnd = open_round(app, client, "Counted once?")
    (prompt, _), = prompt_rows(app, rnd)
    p = participants(app)[0]
    browser = as_participant(app, p)
    assert browser.post("/a/planted/rate", data={"prompt": prompt.id, "pick": "A"}).status_code == 303
    r = browser.post("/a/planted/rate", data={"prompt": prompt.id, "pick": "B"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="rating"' in r.get_data(as_text=True)  # the next card, for htmx
    with db_of(app) as db:
        rows = list(db.exec(select(RatingChoice).where(RatingChoice.prompt_id == prompt.id)))
        first = rating.adapter_first(db.get(RatingRound, rnd.id), prompt, p)
        res = rating.results(db, db.get(RatingRound, rnd.id))
    assert len(rows) == 1 and rows[0].outcome == ("base" if first else "adapter")
    assert res["win_rates"]["all"]["n"] == 1 and res["choices"] == 1
    # reopening the prompt shows the current choice pressed
    page = browser.get(f"/a/planted/rate?prompt={prompt.id}").get_data(as_text=True)
    assert re.search(r'value="B" class="btn vote" aria-pressed="true"', page)


def test_rating_refusals_store_nothing(ft):
    app, client = ft
    rnd = open_round(app, client, "Refusals?")
    (prompt, _), = prompt_rows(app, rnd)
    before = count(app, RatingChoice)
    stranger = app.test_client()
    page = stranger.get("/a/planted/rate").get_data(as_text=True)
    assert "Vote first" in page and 'name="pick"' not in page
    assert stranger.post("/a/planted/rate", data={"prompt": prompt.id, "pick": "A"}).status_code == 403
    browser = as_participant(app, participants(app)[1])
    assert browser.post("/a/planted/rate", data={"prompt": prompt.id, "pick": "C"}).status_code == 422
    assert browser.post("/a/planted/rate", data={"prompt": 10**9, "pick": "A"}).status_code == 404
    assert client.post(f"/facilitate/planted/rating/{rnd.id}/close").status_code == 303
    assert browser.post("/a/planted/rate", data={"prompt": prompt.id, "pick": "A"}).status_code == 409
    assert count(app, RatingChoice) == before


def _everyone_prefers_the_adapter(app, client, text: str) -> RatingRound:
    rnd = open_round(app, client, text)
    (prompt, gen), = prompt_rows(app, rnd)
    _distinct_answers(app, gen)
    with db_of(app) as db:
        r = db.get(RatingRound, rnd.id)
        for p in participants(app):
            pick = "A" if rating.adapter_first(r, prompt, p) else "B"
            assert as_participant(app, p).post("/a/planted/rate", data={"prompt": prompt.id, "pick": pick}
                                               ).status_code == 303
    return rnd


def test_win_rates_per_group_in_the_report_api_and_cli(ft):
    app, client = ft
    rnd = _everyone_prefers_the_adapter(app, client, "Win rates?")
    with db_of(app) as db:
        groups = set((groups_by_pid(db, db.exec(select(Assembly)).one().id) or {}).values())
    assert len(groups) >= 2
    res = client.get(f"/facilitate/planted/rating/{rnd.id}.json").get_json()
    assert res["win_rates"]["all"]["win_rate"]["value"] == 1.0 and res["win_rates"]["all"]["n"] == 20
    assert len(res["win_rates"]["groups"]) == len(groups)
    page = client.get(f"/facilitate/planted/rating/{rnd.id}").get_data(as_text=True)
    assert 'data-group="A"' in page and "100%" in page
    api = client.get(f"/api/assemblies/planted/rating-rounds/{rnd.id}")
    assert api.status_code == 200 and api.get_json()["win_rates"]["all"]["adapter"] == 20
    listing = client.get("/api/assemblies/planted/rating-rounds").get_json()
    assert rnd.id in [r["id"] for r in listing["rating_rounds"]]
    assert app.test_client().get("/api/assemblies/planted/rating-rounds").status_code == 401
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/assemblies/{slug}/rating-rounds/{round_id}" in spec["paths"]
    out = app.test_cli_runner().invoke(args=["evals", "rating", "planted", "--json"])
    assert out.exit_code == 0, out.output
    assert any(r["id"] == rnd.id and r["win_rates"]["all"]["n"] == 20 for r in json.loads(out.output)["rounds"])
    text = app.test_cli_runner().invoke(args=["evals", "rating", "planted"])
    assert f"round {rnd.id}" in text.output and "100%" in text.output
    # the eval report of the same adapter shows it, and its JSON export carries it
    r = client.post("/facilitate/planted/evals", data={"adapter": str(the_adapter(app).id), "suite": "consensus"})
    assert r.status_code == 303
    assert "Human rating" in client.get(r.headers["Location"]).get_data(as_text=True)
    export = client.get(r.headers["Location"] + ".json").get_json()
    assert any(x["id"] == rnd.id for x in export["human_rating"])


def test_preference_records_appear_in_the_next_dataset(ft):
    app, client = ft
    rnd = _everyone_prefers_the_adapter(app, client, "Preference data?")
    page = client.get("/facilitate/planted/dataset").get_data(as_text=True)
    assert 'id="human-rating"' in page and f'data-round="{rnd.id}"' in page
    with db_of(app) as db:
        ds = db.exec(select(Dataset).order_by(Dataset.id.desc())).first()
        rows = [json.loads(line) for line in
                (datasets.folder(app, ds) / "preference.jsonl").read_text(encoding="utf-8").splitlines()]
    mine = [r for r in rows if r["kind"] == "human_rating" and r["source"]["rating_round_id"] == rnd.id]
    assert len(mine) == 1
    (pair,) = mine
    assert (pair["prompt"], pair["chosen"], pair["rejected"]) == \
        ("Preference data?", "Ask every group first.", "Build a car park.")
    assert pair["source"]["preferred"] == "adapter" and pair["source"]["n_choices"] == 20
    assert sum(c["adapter"] for c in pair["source"]["counts"].values()) == 20
    assert json.loads(ds.report_json)["counts"]["preference"]["human_rating"] >= 1
