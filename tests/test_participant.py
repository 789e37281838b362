"""Participant pages: voting with and without htmx, statements, My votes, closed and invite-only assemblies."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from assembly.models import Assembly, Moderation, Participant, Statement, Vote, XidAllow
from assembly.voting.latest_votes import latest_votes
from assembly.voting.rules import add_statement
from tests.conftest import invite_query, make_town_app

HX = {"HX-Request": "true"}


def votes_of(db, assembly) -> dict[int, int]:
    """{statement tid: latest vote value} over all participants (tests use one participant)."""
    db.expire_all()
    tids = {s.id: s.tid for s in db.exec(select(Statement).where(Statement.assembly_id == assembly.id))}
    return {tids[sid]: value for (_pid, sid), value in latest_votes(db, assembly.id).items()}


def shown_tid(html: str) -> int:
    return int(re.search(r'name="tid" value="(\d+)"', html).group(1))


def progress_text(html: str) -> str:
    return re.search(r'class="progress-count">([^<]*)<', html).group(1)


def test_landing_lists_open_assemblies_and_links_to_facilitator_login(client, db, assembly):
    db.add(Assembly(slug="old", title="Last year's budget", is_open=False))
    db.commit()
    html = client.get("/").text
    assert "Our town" in html and 'href="/a/town"' in html
    assert "Last year" not in html
    assert 'href="/auth/login"' in html


def test_assembly_page_shows_question_one_statement_and_progress(client, db, assembly):
    assembly.description = "Tell us what you think."
    db.add(assembly)
    db.commit()
    r = client.get("/a/town")
    assert r.status_code == 200
    html = r.text
    assert "Our town" in html and "What should the town do?" in html and "Tell us what you think." in html
    assert html.count('name="tid"') == 1
    assert progress_text(html) == "0 of 3"
    for label in ("Agree", "Disagree", "Pass / Unsure"):
        assert label in html
    assert 'hx-post="/a/town/vote"' in html and 'name="csrf_token"' in html
    # Looking does not join: the participant is created on the first vote.
    assert db.exec(select(Participant)).all() == []


def test_plain_vote_redirects_and_records_it(client, db, assembly):
    tid = shown_tid(client.get("/a/town").text)
    r = client.post("/a/town/vote", data={"tid": tid, "value": "-1"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/a/town")
    assert votes_of(db, assembly) == {tid: -1}
    html = client.get("/a/town").text
    assert progress_text(html) == "1 of 3"
    assert shown_tid(html) != tid


def test_htmx_vote_returns_the_next_card_and_progress_only(client, db, assembly):
    tid = shown_tid(client.get("/a/town").text)
    r = client.post("/a/town/vote", data={"tid": tid, "value": "1"}, headers=HX)
    assert r.status_code == 200
    assert "<html" not in r.text and 'id="card"' in r.text
    assert 'hx-swap-oob="true"' in r.text and progress_text(r.text) == "1 of 3"
    assert shown_tid(r.text) != tid
    assert "HX-Request" in r.headers["Vary"]
    assert votes_of(db, assembly) == {tid: 1}


def test_after_every_statement_the_participant_is_invited_to_write(client, db, assembly):
    html = client.get("/a/town").text
    for _ in range(3):
        html = client.post("/a/town/vote", data={"tid": shown_tid(html), "value": "0"}, headers=HX).text
    assert "You have seen every statement" in html
    assert 'href="#write"' in html and 'name="tid"' not in html
    assert progress_text(html) == "3 of 3"
    assert sorted(votes_of(db, assembly)) == [0, 1, 2]


@pytest.mark.parametrize("form", [{"tid": "0", "value": "2"}, {"tid": "0", "value": "yes"}, {"tid": "x", "value": "1"}])
def test_bad_vote_is_refused_with_a_message_and_stores_nothing(client, db, assembly, form):
    r = client.post("/a/town/vote", data=form)
    assert r.status_code == 400
    assert 'role="alert"' in r.text and "Please choose Agree, Disagree or Pass." in r.text
    r = client.post("/a/town/vote", data=form, headers=HX)
    assert r.status_code == 400 and r.headers["HX-Retarget"] == "#notice"
    assert db.exec(select(Vote)).all() == []


def test_vote_on_unknown_statement_is_404_and_unknown_assembly_too(client, db, assembly):
    r = client.post("/a/town/vote", data={"tid": "99", "value": "1"})
    assert r.status_code == 404 and "does not exist" in r.text
    assert client.get("/a/nowhere").status_code == 404
    assert db.exec(select(Vote)).all() == []


def test_statement_is_added_with_the_authors_agree_vote(client, db, assembly):
    r = client.post("/a/town/statements", data={"text": "  Open a  night market. "})
    assert r.status_code == 302 and r.headers["Location"].endswith("/a/town#write")
    st = db.exec(select(Statement).where(Statement.text == "Open a night market.")).one()
    assert st.moderation == Moderation.accepted and st.author_id is not None
    assert votes_of(db, assembly) == {st.tid: 1}
    html = client.get("/a/town").text
    assert "Your statement was added" in html
    assert progress_text(html) == "1 of 4"


def test_htmx_statement_answers_the_form_with_confirmation_and_progress(client, db, assembly):
    r = client.post("/a/town/statements", data={"text": "Open a night market."}, headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert 'id="write"' in r.text and 'role="status"' in r.text
    assert progress_text(r.text) == "1 of 4"


def test_duplicate_statement_shows_message_next_to_the_field(client, db, assembly):
    r = client.post("/a/town/statements", data={"text": "build more BIKE lanes"}, headers=HX)
    assert r.status_code == 409
    assert 'id="statement-error" class="error" role="alert"' in r.text
    assert "already in the assembly (#0)" in r.text
    assert 'aria-invalid="true"' in r.text and "build more BIKE lanes" in r.text  # the text is kept
    assert len(db.exec(select(Statement)).all()) == 3
    # Without JavaScript: the whole page again, same status and message.
    r = client.post("/a/town/statements", data={"text": "build more BIKE lanes"})
    assert r.status_code == 409 and "already in the assembly" in r.text and "<html" in r.text


def test_over_long_statement_is_refused_and_remaining_characters_shown(client, db, assembly):
    assembly.statement_max_length = 20
    db.add(assembly)
    db.commit()
    assert "Characters left: 20" in client.get("/a/town").text
    r = client.post("/a/town/statements", data={"text": "x" * 25})
    assert r.status_code == 400
    assert "25 characters; the limit is 20" in r.text and "Too long by 5 characters" in r.text
    assert len(db.exec(select(Statement)).all()) == 3
    assert db.exec(select(Vote)).all() == []


def test_default_limit_is_280_characters(client, assembly):
    assert "Characters left: 280" in client.get("/a/town").text


def test_strict_moderation_holds_statement_and_says_so(client, db, assembly):
    assembly.strict_moderation = True
    db.add(assembly)
    db.commit()
    client.post("/a/town/statements", data={"text": "Free buses on Sundays."})
    st = db.exec(select(Statement).where(Statement.text == "Free buses on Sundays.")).one()
    assert st.moderation == Moderation.pending
    html = client.get("/a/town").text
    assert "A facilitator will review your statement" in html
    assert progress_text(html) == "0 of 3"  # not open for voting yet
    mine = client.get("/a/town/votes").text
    assert "Free buses on Sundays." in mine and "waiting for a facilitator" in mine


def test_my_votes_lists_current_votes_and_changes_them(client, db, assembly):
    assert "You have not voted yet." in client.get("/a/town/votes").text
    client.post("/a/town/vote", data={"tid": "1", "value": "1"})
    html = client.get("/a/town/votes").text
    assert "Keep the library open on Sundays." in html and "Build more bike lanes." not in html
    assert re.search(r'value="1" class="btn vote agree"\s+aria-pressed="true"', html)

    r = client.post("/a/town/vote", data={"tid": "1", "value": "-1", "back": "mine"})
    assert r.status_code == 302 and r.headers["Location"] == "/a/town/votes"
    assert votes_of(db, assembly) == {1: -1}

    r = client.post("/a/town/vote", data={"tid": "1", "value": "0", "back": "mine"}, headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith('<li id="vote-1"')
    assert "Saved" in r.text and re.search(r'value="0" class="btn vote pass"\s+aria-pressed="true"', r.text)
    assert votes_of(db, assembly) == {1: 0}
    # Three events kept, one counted.
    assert [v.value for v in db.exec(select(Vote).order_by(Vote.id))] == [1, -1, 0]


def test_closed_assembly_shows_it_and_has_no_voting_controls(client, db, assembly):
    client.post("/a/town/vote", data={"tid": "0", "value": "1"})
    assembly.is_open = False
    db.add(assembly)
    db.commit()
    html = client.get("/a/town").text
    assert "This assembly is closed" in html
    assert 'name="value"' not in html and 'id="write"' not in html
    assert 'name="value"' not in client.get("/a/town/votes").text  # votes visible, not changeable
    r = client.post("/a/town/vote", data={"tid": "1", "value": "1"})
    assert r.status_code == 409
    r = client.post("/a/town/statements", data={"text": "Too late?"})
    assert r.status_code == 409
    assert votes_of(db, assembly) == {0: 1}


def test_empty_xid_is_no_xid(client, db, assembly):
    client.get("/a/town?xid=%20")
    assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 302
    assert db.exec(select(Participant)).one().xid is None


def test_invite_link_carries_xid_into_the_participant(client, db, assembly):
    r = client.get("/a/town?xid=abc")
    assert r.status_code == 302 and r.headers["Location"] == "/a/town"  # the id leaves the address bar
    client.post("/a/town/vote", data={"tid": "0", "value": "1"})
    assert db.exec(select(Participant)).one().xid == "abc"


@pytest.mark.parametrize("xid", [None, "stranger"])
def test_invite_only_assembly_without_valid_xid_says_so(client, db, assembly, xid):
    assembly.xid_required = True
    db.add(assembly)
    db.add(XidAllow(assembly_id=assembly.id, xid="friend"))
    db.commit()
    if xid:
        client.get(f"/a/town?xid={xid}")
    r = client.get("/a/town")
    assert r.status_code == 403
    assert "by invitation only" in r.text or "not valid for this assembly" in r.text
    assert 'name="value"' not in r.text
    r = client.post("/a/town/vote", data={"tid": "0", "value": "1"})
    assert r.status_code == 403
    assert db.exec(select(Participant)).all() == []


def test_invite_only_assembly_with_valid_xid_lets_them_vote(client, db, assembly):
    assembly.xid_required = True
    db.add(assembly)
    db.add(XidAllow(assembly_id=assembly.id, xid="friend"))
    db.commit()
    client.get("/a/town?xid=friend")
    assert 'name="value"' not in client.get("/a/town").text  # the id alone is no invitation
    client.get(f"/a/town?{invite_query(client.application, 'town', 'friend')}")
    assert 'name="value"' in client.get("/a/town").text
    assert client.post("/a/town/vote", data={"tid": "0", "value": "1"}).status_code == 302
    assert db.exec(select(Participant)).one().xid == "friend"


def test_user_text_is_escaped(client, db, assembly):
    evil = "<script>alert(1)</script>"
    assembly.title = "<b>Town</b>"
    db.add(assembly)
    db.commit()
    add_statement(db, assembly, evil, is_seed=True)
    client.post("/a/town/statements", data={"text": '<img src=x onerror="alert(2)">'})
    # Vote on the three others so the script statement is the one shown.
    for tid in (0, 1, 2):
        client.post("/a/town/vote", data={"tid": str(tid), "value": "1"})
    html = client.get("/a/town").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and evil not in html
    assert "&lt;b&gt;Town&lt;/b&gt;" in html and "<b>Town</b>" not in html
    mine = client.get("/a/town/votes").text
    assert "&lt;img src=x" in mine and "<img" not in mine


def test_csrf_token_is_required_for_votes(database_url):
    client = make_town_app(database_url, WTF_CSRF_ENABLED=True).test_client()
    html = client.get("/a/town").text
    r = client.post("/a/town/vote", data={"tid": "0", "value": "1"})
    assert r.status_code == 400 and "This page has expired" in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post("/a/town/vote", data={"tid": "0", "value": "1", "csrf_token": token})
    assert r.status_code == 302
    # htmx sends the token as a header (base.html hx-headers).
    r = client.post("/a/town/vote", data={"tid": "1", "value": "1"}, headers={**HX, "X-CSRFToken": token})
    assert r.status_code == 200


def test_rate_limit_answers_429_with_a_friendly_message(database_url):
    limits = {"RATELIMIT_VOTES": "2 per minute", "RATELIMIT_STATEMENTS": "1 per minute"}
    app = make_town_app(database_url, RATELIMIT_ENABLED=True, **limits)
    client = app.test_client()
    # The first vote is counted against the address (no participant yet), the next ones against
    # the participant, so a classroom behind one address shares only first votes.
    for tid in (0, 1, 2):
        assert client.post("/a/town/vote", data={"tid": tid, "value": "1"}).status_code == 302
    # A Chinese browser reads it in Chinese: the interface follows the browser, not the assembly.
    r = client.post("/a/town/vote", data={"tid": 2, "value": "-1"}, headers={"Accept-Language": "zh-TW"})
    assert r.status_code == 429 and "請稍等一分鐘後再試" in r.text
    r = client.post("/a/town/vote", data={"tid": 2, "value": "-1"})
    assert r.status_code == 429 and "Please wait a minute" in r.text
    r = client.post("/a/town/vote", data={"tid": 2, "value": "-1"}, headers=HX)
    assert r.status_code == 429 and r.headers["HX-Retarget"] == "#notice"
    assert client.post("/a/town/statements", data={"text": "Four."}).status_code == 302
    r = client.post("/a/town/statements", data={"text": "Five, kept in the form."}, headers=HX)
    assert r.status_code == 429 and "Five, kept in the form." in r.text and 'role="alert"' in r.text
    with Session(app.extensions["assembly_engine"]) as db:
        assert [v.value for v in db.exec(select(Vote).order_by(Vote.id))] == [1, 1, 1, 1]  # 3 votes, 1 author's agree


def test_my_votes_marks_removed_statements_and_keeps_them_unchangeable(client, db, assembly):
    client.post("/a/town/vote", data={"tid": "2", "value": "1"})
    st = db.exec(select(Statement).where(Statement.tid == 2)).one()
    st.moderation = Moderation.rejected
    db.add(st)
    db.commit()
    html = client.get("/a/town/votes").text
    assert "Plant trees on every street." in html and "A facilitator has removed this statement." in html
    assert 'name="value"' not in html
