"""Community-written eval items: proposing (pages, API), voting in their own queue, moderation, the
pass rule (the constitution's: every opinion group supports it), the CLI, and the community suite
in the eval report and the lm-eval export.

The planted assembly (tests/constitution_loader.py) is clustered for real; the items' votes follow
the groups that clustering found, so one item is supported by every group and one divides them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assembly.constitution.groups import current_groups
from assembly.evals.models import CommunityItem, CommunityItemVote, EvalRun
from assembly.models import Assembly, Facilitator, Participant
from assembly.results.runs import run_clustering
from tests.conftest import FACILITATOR_EMAIL, log_in, make_app
from tests.constitution_loader import planted_assembly

CONSENSUS = {"prompt": "How should the town keep its water clean?",
             "good": "Test the water often and publish the results.", "bad": "Water quality is not your business."}
DIVISIVE = {"prompt": "Should cars be banned from the centre?",
            "good": "Yes, ban cars from the centre.", "bad": "No, cars should stay."}


def _rows(app, model):
    with Session(app.extensions["assembly_engine"]) as db:
        return list(db.exec(select(model).order_by(model.id)))


def _owner_id(app) -> int:
    with Session(app.extensions["assembly_engine"]) as db:
        return db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one().id


@pytest.fixture(scope="module")
def planted(databases, tmp_path_factory):
    """Planted assembly, clustered; two facilitator items voted on by every participant through the API."""
    url = databases.acquire(migrated=True)
    app = make_app(url, FINETUNE_DIR=str(tmp_path_factory.mktemp("ft")))
    engine = app.extensions["assembly_engine"]
    client = app.test_client()
    log_in(client, _owner_id(app))
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        a, _ = planted_assembly(db, owner_id=_owner_id(app))
        run_clustering(db, a, device="cpu")
        groups, _ = current_groups(db, a)
        tokens = {p.id: p.token for p in db.exec(select(Participant).where(Participant.assembly_id == a.id))}
    assert len(set(groups.values())) == 2
    first = min(groups.values())
    for form in (CONSENSUS, DIVISIVE):
        assert client.post("/facilitate/planted/evals/items", data=form).status_code == 303
    consensus, divisive = (it.id for it in _rows(app, CommunityItem))
    api = app.test_client()
    for pid, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        r = api.post(f"/api/assemblies/planted/items/{consensus}/votes", json={"vote": 1}, headers=auth)
        assert r.status_code == 201, r.json
        split = 1 if groups.get(pid) == first else -1
        assert api.post(f"/api/assemblies/planted/items/{divisive}/votes", json={"vote": split},
                        headers=auth).status_code == 201
    yield app, client, consensus, divisive
    engine.dispose()
    databases.release(url)


def test_an_item_every_group_supports_passes_and_a_divisive_one_does_not(planted):
    app, _, consensus, divisive = planted
    out = app.test_cli_runner().invoke(args=["evals", "items", "planted", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    by_id = {it["id"]: it for it in doc["items"]}
    assert by_id[consensus]["passes"] and by_id[consensus]["decision"] == "candidate"
    assert by_id[consensus]["votes"] == {"agree": 20, "disagree": 0, "pass": 0, "seen": 20}
    assert not by_id[divisive]["passes"] and by_id[divisive]["decision"] == "divisive"
    assert [g["group"] for g in by_id[divisive]["groups"]] == ["A", "B"]
    assert by_id[divisive]["groups"][0]["agree"] == by_id[divisive]["groups"][0]["seen"] > 0
    assert by_id[divisive]["groups"][1]["disagree"] == by_id[divisive]["groups"][1]["seen"] > 0
    assert doc["clustering"]["groups"] == ["A", "B"] and doc["thresholds"]["min_votes"] == 10
    text = app.test_cli_runner().invoke(args=["evals", "items", "planted"]).output
    assert "PASSES" in text and "divisive" in text and "1 of 2 item(s) pass" in text


def test_the_facilitator_page_shows_votes_per_group_and_moderation_decides(planted):
    app, client, consensus, _ = planted
    page = client.get("/facilitate/planted/evals/items").get_data(as_text=True)
    assert f'id="item-{consensus}" data-decision="candidate"' in page and "Group B" in page
    assert client.post(f"/facilitate/planted/evals/items/{consensus}/moderation",
                       data={"moderation": "rejected"}).status_code == 303
    page = client.get("/facilitate/planted/evals/items").get_data(as_text=True)
    assert f'id="item-{consensus}" data-decision="moderated_out"' in page
    assert client.post(f"/facilitate/planted/evals/items/{consensus}/moderation",
                       data={"moderation": "bogus"}).status_code == 400
    assert client.post(f"/facilitate/planted/evals/items/{consensus}/moderation",
                       data={"moderation": "accepted"}).status_code == 303
    anonymous = app.test_client().get("/facilitate/planted/evals/items")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    from assembly.auth import create_facilitator

    with Session(app.extensions["assembly_engine"]) as db:
        other = create_facilitator(db, "other@example.org", "another long password", "Other").id
    stranger = app.test_client()
    log_in(stranger, other)
    assert stranger.get("/facilitate/planted/evals/items").status_code == 403
    assert stranger.post(f"/facilitate/planted/evals/items/{consensus}/moderation",
                         data={"moderation": "rejected"}).status_code == 403
    assert all(it.moderation == "accepted" for it in _rows(app, CommunityItem))


@pytest.mark.slow
def test_the_eval_report_lists_the_community_suite_with_votes_as_provenance(planted):
    app, _, consensus, _ = planted
    from finetune.evals.report import plan
    from finetune.evals.suites import get

    with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
        from assembly.evals.runner import _source

        a = db.exec(select(Assembly).where(Assembly.slug == "planted")).one()
        assert "community" in [s.name for s, _ in plan(_source(app, db, a, None))]  # chosen by default
    out = app.test_cli_runner().invoke(args=["evals", "run", "planted", "--model", "tiny-test-gemma3",
                                             "--suite", "community"])
    assert out.exit_code == 0, out.output
    ev = _rows(app, EvalRun)[-1]
    report = json.loads((Path(app.config["FINETUNE_DIR"]) / ev.report_path).read_text())
    suite = report["suites"]["community"]
    assert suite["title"] == get("community").title and suite["n_items"] == 1  # the divisive item stays out
    item = suite["items"][0]
    assert item["id"] == f"community-{consensus}"
    assert item["meta"]["votes"]["overall"]["agree"] == 20 and len(item["meta"]["votes"]["groups"]) == 2
    assert item["meta"]["provenance"]["clustering"]["run_id"] is not None
    assert 0 <= suite["metrics"]["pass_rate"]["base"]["value"] <= 1
    task = Path(app.config["FINETUNE_DIR"]) / ev.report_path
    yaml = task.parent / "lm-eval" / "aa_planted_community" / "aa_planted_community.yaml"
    assert yaml.is_file() and "pass_rate" in yaml.read_text()


# -- a plain assembly, no clustering: proposing, the queue, one vote per participant ----------------


def _item(app, slug: str = "town", **fields) -> int:
    from assembly.evals.community import propose

    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == slug)).one()
        return propose(db, a, **{**CONSENSUS, **fields}).id


def test_a_participant_votes_on_an_item_once_and_can_change_it(app, client, assembly):
    item = _item(app)
    assert client.post("/a/town/items/vote", data={"item": item, "value": 1}).status_code == 302
    assert client.post("/a/town/items/vote", data={"item": item, "value": -1}).status_code == 302
    votes = _rows(app, CommunityItemVote)
    assert [(v.item_id, v.value) for v in votes] == [(item, -1)]  # changed, not counted twice
    listing = client.get("/api/assemblies/town/items").json["items"]
    assert listing[0]["votes"] == {"agree": 0, "disagree": 1, "pass": 0, "seen": 1}
    assert listing[0]["my_vote"] == -1 and listing[0]["decision"] == "no_groups" and "groups" not in listing[0]
    other = app.test_client()
    token = other.post("/api/assemblies/town/participants", json={}).json["token"]
    for value in (1, 1, 0):
        r = other.post(f"/api/assemblies/town/items/{item}/votes", json={"vote": value},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201 and r.json["vote"] == value
    assert len(_rows(app, CommunityItemVote)) == 2
    assert client.get("/api/assemblies/town/items").json["items"][0]["votes"]["seen"] == 2


def test_the_queue_page_works_without_javascript_and_with_htmx(app, client, assembly):
    page = client.get("/a/town/items").get_data(as_text=True)
    assert "You have seen every item" in page and 'name="prompt"' in page and 'aria-current="page"' in page
    r = client.post("/a/town/items", data={**CONSENSUS, "prompt": "Is <b>bold</b> allowed?"})
    assert r.status_code == 302 and r.headers["Location"].endswith("#propose")
    page = client.get("/a/town/items").get_data(as_text=True)
    assert "Your item was added" in page and "1 of 1" in page  # the author's item is their agree vote
    other = app.test_client()
    card = other.get("/a/town/items").get_data(as_text=True)
    assert "Is &lt;b&gt;bold&lt;/b&gt; allowed?" in card and "<b>bold" not in card
    item = _rows(app, CommunityItem)[0].id
    fragment = other.post("/a/town/items/vote", data={"item": item, "value": 0}, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "You have seen every item" in body
    assert 'hx-swap-oob="true"' in body  # progress updated out of band
    r = other.post("/a/town/items/vote", data={"item": 999999, "value": 1}, headers={"HX-Request": "true"})
    assert r.status_code == 404 and "does not exist" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"prompt": "   "}, 400, "Please fill in the prompt"),
        ({"good": "x" * 1001}, 400, "the limit is 1000"),
        ({"bad": CONSENSUS["good"].upper()}, 400, "say the same"),
        ({"bad": "no\x00pe"}, 400, "NUL"),
    ],
)
def test_bad_items_get_a_clear_form_error_and_store_nothing(app, client, assembly, fields, status, message):
    r = client.post("/a/town/items", data={**CONSENSUS, **fields})
    body = r.get_data(as_text=True)
    assert r.status_code == status and message in body
    if not any("\x00" in v for v in fields.values()):  # a NUL is refused before any view (security.py)
        kept = {**CONSENSUS, **fields}["good"][:40]
        assert 'id="item-error"' in body and kept in body  # what was typed is kept
    assert _rows(app, CommunityItem) == [] and _rows(app, Participant) == []


def test_the_rule_itself_refuses_nul_and_lone_surrogates(app, assembly):
    """Callers that skip the request guards (the CLI, jobs) meet the same refusal in the rule."""
    from assembly.domain_errors import AssemblyError
    from assembly.evals.community import clean_field

    for bad in ("a\x00b", "a\ud800b"):
        with pytest.raises(AssemblyError) as exc:
            clean_field("prompt", bad)
        assert exc.value.status == 400
    assert clean_field("good", "  one\r\n\n\n\ntwo  ") == "one\n\ntwo"


def test_duplicates_and_surrogates_are_refused_over_the_api(app, client, assembly):
    _item(app)
    r = client.post("/a/town/items", data={**CONSENSUS, "prompt": "  how should the TOWN keep its water clean "})
    assert r.status_code == 409 and "already in the assembly" in r.get_data(as_text=True)
    raw = json.dumps({**CONSENSUS, "prompt": "x"}).replace('"x"', '"\\ud800"')
    r = client.post("/api/assemblies/town/items", data=raw, content_type="application/json")
    assert r.status_code == 400 and "surrogate" in r.json["error"]
    r = client.post("/api/assemblies/town/items", json=CONSENSUS)
    assert r.status_code == 409 and "already in the assembly" in r.json["error"]
    assert len(_rows(app, CommunityItem)) == 1 and _rows(app, Participant) == []


def test_api_propose_vote_moderate_and_openapi(app, client, assembly):
    fac = app.test_client()
    log_in(fac, _owner_id(app))
    with Session(app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
        a.owner_id = _owner_id(app)
        db.add(a)
        db.commit()
    join = client.post("/api/assemblies/town/participants", json={}).json
    auth = {"Authorization": f"Bearer {join['token']}"}
    r = client.post("/api/assemblies/town/items", json=DIVISIVE, headers=auth)
    assert r.status_code == 201 and r.json["my_vote"] == 1 and r.json["votes"]["agree"] == 1
    item = r.json["id"]
    r = client.post("/api/assemblies/town/items", json={**CONSENSUS, "extra": 1}, headers=auth)
    assert r.status_code == 422
    r = client.post(f"/api/assemblies/town/items/{item}/votes", json={"vote": True}, headers=auth)
    assert r.status_code == 422
    owner_view = fac.get("/api/assemblies/town/items").json["items"][0]
    assert owner_view["moderation"] == "accepted" and owner_view["groups"] == []
    assert fac.patch(f"/api/assemblies/town/items/{item}", json={"moderation": "rejected"}).status_code == 200
    assert client.get("/api/assemblies/town/items", headers={}).json["items"] == []
    r = client.patch(f"/api/assemblies/town/items/{item}", json={"moderation": "accepted"}, headers=auth)
    assert r.status_code == 401 or r.status_code == 403
    spec = client.get("/api/openapi.json").json
    assert {"/api/assemblies/{slug}/items", "/api/assemblies/{slug}/items/{item_id}/votes",
            "/api/assemblies/{slug}/items/{item_id}"} <= set(spec["paths"])


def test_a_closed_assembly_takes_no_item_votes(app, client, assembly):
    item = _item(app)
    with Session(app.extensions["assembly_engine"]) as db:
        a = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
        a.is_open = False
        db.add(a)
        db.commit()
    r = client.post("/a/town/items/vote", data={"item": item, "value": 1})
    assert r.status_code == 409 and "closed" in r.get_data(as_text=True)
    assert _rows(app, CommunityItemVote) == [] and _rows(app, Participant) == []
