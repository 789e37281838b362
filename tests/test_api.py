"""The JSON API: generated OpenAPI document, access rules, validation, votes, results, CSRF, rate limits."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from sqlmodel import Session, func, select

from assembly.auth import create_facilitator, issue_token
from assembly.models import Assembly, Facilitator, Moderation, Participant, Statement, Vote, XidAllow
from tests.conftest import FACILITATOR_EMAIL, invite_query, make_town_app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def owner_token(db, assembly) -> str:
    """An aa_ token of the facilitator who owns the `assembly` fixture."""
    fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    assembly.owner_id = fac.id
    db.add(assembly)
    db.commit()
    return issue_token(db, fac, "tests")


@pytest.fixture
def other_token(db) -> str:
    """A token of a facilitator who owns nothing."""
    fac = create_facilitator(db, "other@example.org", "another long password")
    return issue_token(db, fac, "tests")


def join(client, slug: str = "town", **body) -> str:
    r = client.post(f"/api/assemblies/{slug}/participants", json=body)
    assert r.status_code == 201, r.json
    assert r.json["token"].startswith("pt_")
    return r.json["token"]


def count(db, model, *where) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


# -- OpenAPI -----------------------------------------------------------------------------------


def test_openapi_document_is_generated_from_the_routes(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [
        ("/api/assemblies", "get"), ("/api/assemblies", "post"), ("/api/assemblies/{slug}", "patch"),
        ("/api/assemblies/{slug}/participants", "post"), ("/api/assemblies/{slug}/statements", "post"),
        ("/api/assemblies/{slug}/statements/{tid}", "patch"), ("/api/assemblies/{slug}/next", "get"),
        ("/api/assemblies/{slug}/votes", "post"), ("/api/assemblies/{slug}/votes/me", "get"),
        ("/api/assemblies/{slug}/results", "get"),
    ]:
        assert method in paths[path], (path, method)
    vote = paths["/api/assemblies/{slug}/votes"]["post"]
    assert vote["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/VoteIn")
    assert {"participantToken"} in [set(s) for s in vote["security"]]
    assert vote["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["participantToken"]["scheme"] == "bearer"
    assert schemes["facilitatorToken"]["scheme"] == "bearer"
    assert spec["components"]["schemas"]["VoteIn"]["properties"]["vote"]["enum"] == [-1, 0, 1]


def test_unknown_api_path_is_json_404_and_wrong_method_405(client, assembly):
    r = client.get("/api/no/such/thing")
    assert r.status_code == 404 and "no API endpoint" in r.json["error"]
    r = client.get("/api/assemblies/town/votes")
    assert r.status_code == 405 and r.headers["Allow"] == "POST" and "use POST" in r.json["error"]


# -- assemblies --------------------------------------------------------------------------------


def test_list_and_read_assemblies_are_public_and_list_only_open_ones(client, db, assembly):
    db.add(Assembly(slug="closed-one", title="Closed", is_open=False))
    db.commit()
    slugs = [a["slug"] for a in client.get("/api/assemblies").json["assemblies"]]
    assert slugs == ["town"]
    assert client.get("/api/assemblies/closed-one").json["is_open"] is False
    r = client.get("/api/assemblies/nope")
    assert r.status_code == 404 and r.json == {"error": "no assembly 'nope'"}


def test_create_assembly_needs_a_facilitator(client, db):
    r = client.post("/api/assemblies", json={"slug": "new-one", "title": "New"})
    assert r.status_code == 401 and "facilitator" in r.json["error"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(db, Assembly) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Upper-Case", "title": "T"}, "slug"),
        ({"slug": "ab", "title": "T"}, "slug"),
        ({"slug": "a" * 81, "title": "T"}, "slug"),
        ({"slug": "has space", "title": "T"}, "slug"),
        ({"slug": "new", "title": "T"}, "slug"),  # reserved: /facilitate/new is a page
        ({"slug": "-edge-", "title": "T"}, "slug"),
        ({"slug": "fine-slug", "title": "   "}, "title"),
        ({"slug": "fine-slug", "title": "T", "language": "not a language"}, "language"),
        ({"slug": "fine-slug", "title": "T", "statement_max_length": 5}, "statement_max_length"),
        ({"slug": "fine-slug", "title": "T", "is_open": "yes"}, "is_open"),
        ({"slug": "fine-slug", "title": "T", "strict_moderaton": True}, "strict_moderaton"),
    ],
)
def test_create_assembly_rejects_bad_fields_with_422(client, db, owner_token, body, field):
    r = client.post("/api/assemblies", json=body, headers=bearer(owner_token))
    assert r.status_code == 422
    assert field in r.json["error"]
    assert [d["field"] for d in r.json["detail"]] == [field]
    assert count(db, Assembly) == 1  # only the fixture's


def test_create_assembly_by_token_and_slug_is_unique(client, db, owner_token):
    # The same rules as the facilitator form: the language tag is stored in canonical case.
    body = {"slug": "river-2026", "title": "The river", "question": "What now?", "language": "zh_hant_tw",
            "strict_moderation": True}
    r = client.post("/api/assemblies", json=body, headers=bearer(owner_token))
    assert r.status_code == 201
    assert r.json["slug"] == "river-2026" and r.json["strict_moderation"] is True
    created = db.exec(select(Assembly).where(Assembly.slug == "river-2026")).one()
    assert created.owner_id is not None and created.language == "zh-Hant-TW"
    again = client.post("/api/assemblies", json=body, headers=bearer(owner_token))
    assert again.status_code == 409 and "taken" in again.json["error"]


def test_create_assembly_with_login_cookie(client, auth, db):
    auth.login()
    r = client.post("/api/assemblies", json={"slug": "by-cookie", "title": "Cookie"})
    assert r.status_code == 201
    assert count(db, Assembly, Assembly.slug == "by-cookie") == 1


def test_patch_assembly_owner_only(client, db, assembly, owner_token, other_token):
    pt = join(client)
    assert client.patch("/api/assemblies/town", json={"is_open": False}).status_code == 401
    assert client.patch("/api/assemblies/town", json={"is_open": False}, headers=bearer(pt)).status_code == 401
    r = client.patch("/api/assemblies/town", json={"is_open": False}, headers=bearer(other_token))
    assert r.status_code == 403 and "owns" in r.json["error"]
    r = client.patch("/api/assemblies/town", json={"is_open": False, "title": "Renamed"}, headers=bearer(owner_token))
    assert r.status_code == 200 and r.json["is_open"] is False and r.json["title"] == "Renamed"
    db.refresh(assembly)
    assert assembly.is_open is False


@pytest.mark.parametrize("body", [{"title": None}, {"statement_max_length": "long"}, {"colour": "red"}])
def test_patch_assembly_bad_body_changes_nothing(client, db, assembly, owner_token, body):
    r = client.patch("/api/assemblies/town", json=body, headers=bearer(owner_token))
    assert r.status_code == 422 and r.json["error"]
    db.refresh(assembly)
    assert assembly.title == "Our town" and assembly.statement_max_length == 280


# -- joining -----------------------------------------------------------------------------------


def test_join_gives_distinct_tokens_and_pids(client, assembly):
    first = client.post("/api/assemblies/town/participants", headers={"Authorization": "Bearer pt_x"}, json={})
    second = client.post("/api/assemblies/town/participants")  # no body at all is fine
    assert first.status_code == second.status_code == 201
    assert first.json["token"] != second.json["token"]
    assert {first.json["pid"], second.json["pid"]} == {0, 1}


def test_join_by_invitation_enforces_the_allow_list(client, db, assembly):
    assembly.xid_required = True
    db.add(assembly)
    db.add(XidAllow(assembly_id=assembly.id, xid="alice"))
    db.commit()
    r = client.post("/api/assemblies/town/participants", json={})
    assert r.status_code == 403 and "invitation" in r.json["error"]
    assert client.post("/api/assemblies/town/participants", json={"xid": "mallory"}).status_code == 403
    assert count(db, Participant) == 0
    assert client.post("/api/assemblies/town/participants", json={"xid": "alice"}).status_code == 403
    invite = parse_qs(invite_query(client.application, "town", "alice"))["invite"][0]
    a1 = client.post("/api/assemblies/town/participants", json={"xid": "alice", "invite": invite}).json
    a2 = client.post("/api/assemblies/town/participants", json={"xid": "alice", "invite": invite}).json
    assert a1 == a2  # an external id is one participant


def test_join_closed_assembly_is_refused(client, db, assembly):
    assembly.is_open = False
    db.add(assembly)
    db.commit()
    assert client.post("/api/assemblies/town/participants").status_code == 409


# -- statements --------------------------------------------------------------------------------


def test_participant_adds_a_statement_with_their_agree_vote(client, db, assembly):
    pt = join(client)
    r = client.post("/api/assemblies/town/statements", json={"text": "  More   benches  "}, headers=bearer(pt))
    assert r.status_code == 201
    (st,) = r.json["statements"]
    assert st["text"] == "More benches" and st["mine"] is True and "moderation" not in st
    me = db.exec(select(Participant).where(Participant.token == pt)).one()
    stored = db.exec(select(Statement).where(Statement.tid == st["tid"])).one()
    assert stored.author_id == me.id
    assert [v.value for v in db.exec(select(Vote).where(Vote.statement_id == stored.id))] == [1]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": ""}, 400), ({"text": "x" * 281}, 400), ({"text": "Build more bike lanes!"}, 409),
     ({"text": 5}, 422), ({"txt": "hi"}, 422), ([{"text": "a list"}], 400), ({"text": "meta", "is_meta": True}, 403)],
)
def test_bad_participant_statements_change_nothing(client, db, assembly, body, status):
    pt = join(client)
    r = client.post("/api/assemblies/town/statements", json=body, headers=bearer(pt))
    assert r.status_code == status and r.json["error"]
    assert count(db, Statement) == 3 and count(db, Vote) == 0


def test_strict_moderation_hides_pending_from_others_but_not_the_author(client, db, assembly, owner_token):
    assembly.strict_moderation = True
    db.add(assembly)
    db.commit()
    author, other = join(client), join(client)
    client.post("/api/assemblies/town/statements", json={"text": "Free buses"}, headers=bearer(author))
    mine = client.get("/api/assemblies/town/statements", headers=bearer(author)).json["statements"]
    theirs = client.get("/api/assemblies/town/statements", headers=bearer(other)).json["statements"]
    assert [s["text"] for s in mine if s["mine"]] == ["Free buses"]
    assert "Free buses" not in [s["text"] for s in theirs]
    assert all("moderation" not in s and "author_pid" not in s for s in mine + theirs)
    full = client.get("/api/assemblies/town/statements", headers=bearer(owner_token)).json["statements"]
    pending = [s for s in full if s["text"] == "Free buses"]
    assert pending[0]["moderation"] == "pending" and pending[0]["author_pid"] == 0


def test_owner_moderates_and_participants_cannot(client, db, assembly, owner_token, other_token):
    pt = join(client)
    body = {"moderation": "rejected"}
    assert client.patch("/api/assemblies/town/statements/1", json=body, headers=bearer(pt)).status_code == 401
    assert client.patch("/api/assemblies/town/statements/1", json=body, headers=bearer(other_token)).status_code == 403
    assert client.patch(
        "/api/assemblies/town/statements/1", json={"moderation": "maybe"}, headers=bearer(owner_token)
    ).status_code == 422
    assert client.patch("/api/assemblies/town/statements/9", json=body, headers=bearer(owner_token)).status_code == 404
    r = client.patch("/api/assemblies/town/statements/1", json={**body, "is_meta": True}, headers=bearer(owner_token))
    assert r.status_code == 200 and r.json["moderation"] == "rejected" and r.json["is_meta"] is True
    st = db.exec(select(Statement).where(Statement.assembly_id == assembly.id, Statement.tid == 1)).one()
    db.refresh(st)
    assert st.moderation == Moderation.rejected
    visible = [s["tid"] for s in client.get("/api/assemblies/town/statements", headers=bearer(pt)).json["statements"]]
    assert visible == [0, 2]
    vote = client.post("/api/assemblies/town/votes", json={"tid": 1, "vote": 1}, headers=bearer(pt))
    assert vote.status_code == 409


def test_owner_seeds_a_list_all_or_none(client, db, assembly, owner_token, other_token):
    url = "/api/assemblies/town/statements"
    dup = [{"text": "New idea"}, {"text": "Keep the library open on sundays"}]
    r = client.post(url, json=dup, headers=bearer(owner_token))
    assert r.status_code == 409 and "#1" in r.json["error"]
    twice = [{"text": "Same"}, {"text": "same."}]
    assert client.post(url, json=twice, headers=bearer(owner_token)).status_code == 409
    assert client.post(url, json=[{"text": "Ok"}], headers=bearer(other_token)).status_code == 403
    assert count(db, Statement) == 3
    r = client.post(url, json=[{"text": "Seed A"}, {"text": "Seed B", "is_meta": True}], headers=bearer(owner_token))
    assert r.status_code == 201
    assert [(s["tid"], s["is_seed"], s["is_meta"]) for s in r.json["statements"]] == [(3, True, False), (4, True, True)]
    assert count(db, Statement) == 5 and count(db, Vote) == 0


# -- next and votes ----------------------------------------------------------------------------


def test_next_walks_through_every_statement_then_returns_null(client, assembly):
    pt = join(client)
    seen = []
    for _ in range(3):
        r = client.get("/api/assemblies/town/next", headers=bearer(pt)).json
        assert r["progress"] == {"voted": len(seen), "total": 3}
        seen.append(r["statement"]["tid"])
        assert client.post("/api/assemblies/town/votes", json={"tid": seen[-1], "vote": 0},
                           headers=bearer(pt)).status_code == 201
    assert sorted(seen) == [0, 1, 2]
    done = client.get("/api/assemblies/town/next", headers=bearer(pt)).json
    assert done["statement"] is None and done["progress"] == {"voted": 3, "total": 3}


def test_vote_is_committed_before_201_and_latest_counts(client, app, assembly):
    pt = join(client)
    r = client.post("/api/assemblies/town/votes", json={"tid": 2, "vote": 1}, headers=bearer(pt))
    assert r.status_code == 201 and r.json["tid"] == 2 and r.json["vote"] == 1
    # A separate connection sees it: the transaction was committed before the answer.
    with Session(app.extensions["assembly_engine"]) as fresh:
        stored = fresh.get(Vote, r.json["id"])
        assert stored is not None and stored.value == 1
    client.post("/api/assemblies/town/votes", json={"tid": 2, "vote": -1}, headers=bearer(pt))
    client.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 0}, headers=bearer(pt))
    mine = client.get("/api/assemblies/town/votes/me", headers=bearer(pt)).json["votes"]
    assert [(v["tid"], v["vote"]) for v in mine] == [(0, 0), (2, -1)]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"tid": 0, "vote": 2}, 422), ({"tid": 0, "vote": True}, 422), ({"tid": 0, "vote": "1"}, 422),
     ({"tid": "0", "vote": 1}, 422), ({"tid": 0}, 422), ({"tid": 0, "vote": 1, "x": 1}, 422),
     ({"tid": 99, "vote": 1}, 404)],
)
def test_bad_votes_change_nothing(client, db, assembly, body, status):
    pt = join(client)
    r = client.post("/api/assemblies/town/votes", json=body, headers=bearer(pt))
    assert r.status_code == status and r.json["error"]
    assert count(db, Vote) == 0


def test_vote_body_that_is_not_json_is_a_clear_422(client, db, assembly):
    pt = join(client)
    r = client.post("/api/assemblies/town/votes", data="tid=0&vote=1", headers={**bearer(pt),
                    "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json["error"]
    assert count(db, Vote) == 0


def test_vote_access_rules(client, db, assembly, owner_token):
    body = {"tid": 0, "vote": 1}
    other = Assembly(slug="elsewhere", title="Elsewhere")
    db.add(other)
    db.commit()
    foreign = join(client, "elsewhere")
    assert client.post("/api/assemblies/town/votes", json=body, headers=bearer("pt_forged")).status_code == 401
    assert client.post("/api/assemblies/town/votes", json=body, headers=bearer(foreign)).status_code == 401
    assert client.post("/api/assemblies/town/votes", json=body, headers=bearer(owner_token)).status_code == 403
    assert client.post("/api/assemblies/nope/votes", json=body, headers=bearer(foreign)).status_code == 404
    assert client.get("/api/assemblies/town/votes/me", headers=bearer("pt_forged")).status_code == 401
    assert count(db, Vote) == 0
    pt = join(client)
    assembly.is_open = False
    db.add(assembly)
    db.commit()
    r = client.post("/api/assemblies/town/votes", json=body, headers=bearer(pt))
    assert r.status_code == 409 and "closed" in r.json["error"]
    assert client.get("/api/assemblies/town/next", headers=bearer(pt)).json["statement"] is None


def test_cookie_participant_is_created_on_first_vote_and_remembered(client, db, assembly):
    r = client.post("/api/assemblies/town/votes", json={"tid": 1, "vote": -1})
    assert r.status_code == 201
    assert count(db, Participant) == 1
    mine = client.get("/api/assemblies/town/votes/me").json["votes"]
    assert [(v["tid"], v["vote"]) for v in mine] == [(1, -1)]
    other_browser = client.application.test_client()
    assert other_browser.get("/api/assemblies/town/votes/me").status_code == 401


# -- results -----------------------------------------------------------------------------------


def test_results_count_latest_votes_and_hide_rejected_from_the_public(client, db, assembly, owner_token):
    a, b = join(client), join(client)
    for token, tid, value in [(a, 0, 1), (a, 0, -1), (b, 0, -1), (a, 1, 0), (b, 2, 1)]:
        assert client.post("/api/assemblies/town/votes", json={"tid": tid, "vote": value},
                           headers=bearer(token)).status_code == 201
    client.patch("/api/assemblies/town/statements/2", json={"moderation": "rejected"}, headers=bearer(owner_token))
    public = client.get("/api/assemblies/town/results").json
    assert public["participants"] == 2 and public["vote_events"] == 5 and public["clustering"] is None
    rows = {s["tid"]: s for s in public["statements"]}
    assert set(rows) == {0, 1}
    assert (rows[0]["agree"], rows[0]["disagree"], rows[0]["pass"], rows[0]["seen"]) == (0, 2, 0, 2)
    assert (rows[1]["agree"], rows[1]["disagree"], rows[1]["pass"], rows[1]["seen"]) == (0, 0, 1, 1)
    assert "moderation" not in rows[0]
    owner = {s["tid"]: s for s in client.get("/api/assemblies/town/results", headers=bearer(owner_token)).json[
        "statements"]}
    assert owner[2]["moderation"] == "rejected" and owner[2]["agree"] == 1


# -- CSRF and rate limits ----------------------------------------------------------------------


def test_cookie_posts_need_the_csrf_header_bearer_posts_do_not(database_url):
    app = make_town_app(database_url, WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    token = browser.get("/api/csrf-token").json["csrf_token"]  # the browser now has a session cookie
    r = browser.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1})
    assert r.status_code == 400 and "CSRF" in r.json["error"]
    r = browser.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1}, headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400
    r = browser.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1}, headers={"X-CSRFToken": token})
    assert r.status_code == 201
    api_client = app.test_client(use_cookies=False)  # a script: no cookie, so joining needs no CSRF token
    pt = api_client.post("/api/assemblies/town/participants").json
    assert pt is not None and pt["token"].startswith("pt_")
    r = api_client.post("/api/assemblies/town/votes", json={"tid": 1, "vote": 1}, headers=bearer(pt["token"]))
    assert r.status_code == 201
    with Session(app.extensions["assembly_engine"]) as db:
        assert db.exec(select(func.count()).select_from(Vote)).one() == 2


def test_vote_rate_limit_answers_429_json(database_url):
    app = make_town_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_VOTES="2 per minute", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    pt = client.post("/api/assemblies/town/participants").json["token"]
    codes = [client.post("/api/assemblies/town/votes", json={"tid": t, "vote": 1}, headers=bearer(pt)).status_code
             for t in (0, 1, 2)]
    assert codes == [201, 201, 429]
    r = client.post("/api/assemblies/town/votes", json={"tid": 2, "vote": 1}, headers=bearer(pt))
    assert r.status_code == 429 and "2 per 1 minute" in r.json["error"]
    other = client.post("/api/assemblies/town/participants").json["token"]  # limits are per participant
    r = client.post("/api/assemblies/town/votes", json={"tid": 2, "vote": 1}, headers=bearer(other))
    assert r.status_code == 201
    with Session(app.extensions["assembly_engine"]) as db:
        assert db.exec(select(func.count()).select_from(Vote)).one() == 3
