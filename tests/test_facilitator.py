"""Facilitator pages through the Flask test client: access, forms, seeding, moderation, invitations."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from sqlmodel import Session, select

from app import create_app
from assembly.auth import create_facilitator
from assembly.facilitation.forms import normalize_language
from assembly.facilitation.rules import SEED_MAX
from assembly.migrate import upgrade
from assembly.models import Assembly, Facilitator, Moderation, Statement, XidAllow
from assembly.voting.next_statement import votable_statements
from assembly.voting.rules import AssemblyError, add_statement, create_participant, record_vote
from tests.conftest import FACILITATOR_EMAIL, invite_query, log_in

OTHER_EMAIL, OTHER_PASSWORD = "other@example.org", "another long password"
XSS = "<script>alert(1)</script>"


def _owner_id(db) -> int:
    return db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one().id


@pytest.fixture
def owned(db) -> Assembly:
    """A strict-moderation assembly owned by the seeded facilitator, with two seeds."""
    a = Assembly(slug="budget", title="City budget", question="How should we spend?", owner_id=_owner_id(db),
                 strict_moderation=True)
    db.add(a)
    db.commit()
    add_statement(db, a, "Fund the buses.", is_seed=True)
    add_statement(db, a, "Lower the rates.", is_seed=True)
    return a


@pytest.fixture
def other_facilitator(db) -> Facilitator:
    return create_facilitator(db, OTHER_EMAIL, OTHER_PASSWORD)


def _get(db, slug: str) -> Assembly:
    db.expire_all()
    return db.exec(select(Assembly).where(Assembly.slug == slug)).one()


def _errors(html: str) -> set[str]:
    """Names of the form fields the page marks as invalid."""
    return set(re.findall(r'id="([a-z_]+)-error"', html))


VALID = {
    "slug": "new-one", "title": "A new one", "question": "What now?", "description": "Longer text.",
    "language": "zh-hant-tw", "statement_max_length": "300", "participants_can_write": "1", "is_open": "1",
}

GET_PATHS = ["/facilitate/budget/", "/facilitate/budget/edit", "/facilitate/budget/stats", "/facilitate/budget/seed",
             "/facilitate/budget/moderation", "/facilitate/budget/invites", "/facilitate/budget/invites.csv"]
POSTS = [
    ("/facilitate/budget/edit", {**VALID, "slug": "budget", "title": "Hijacked"}),
    ("/facilitate/budget/close", {}),
    ("/facilitate/budget/seed", {"statements": "Injected seed."}),
    ("/facilitate/budget/statements/0/moderate", {"action": "reject"}),
    ("/facilitate/budget/invites/add", {"xids": "intruder"}),
    ("/facilitate/budget/invites/required", {"xid_required": "1"}),
]


def _snapshot(db, slug: str) -> tuple:
    a = _get(db, slug)
    statements = db.exec(select(Statement.tid, Statement.text, Statement.moderation, Statement.is_meta)
                         .where(Statement.assembly_id == a.id).order_by(Statement.tid)).all()
    xids = db.exec(select(XidAllow.xid).where(XidAllow.assembly_id == a.id)).all()
    return a.model_dump(), statements, sorted(xids)


@pytest.fixture(scope="module")
def shared_app(databases):
    """One app for the read-only and refused-request tests: an owner, another facilitator, "budget".

    Module-scoped because these requests must change nothing (each test checks that), and building
    an app with password hashes per case would dominate the run time.
    """
    url = databases.acquire()
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": url})
    upgrade(app.extensions["assembly_engine"])
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        owner = create_facilitator(db, FACILITATOR_EMAIL, "a long enough password")
        other = create_facilitator(db, OTHER_EMAIL, OTHER_PASSWORD)
        a = Assembly(slug="budget", title="City budget", owner_id=owner.id, strict_moderation=True)
        db.add(a)
        db.commit()
        add_statement(db, a, "Fund the buses.", is_seed=True)
    app.config["_ids"] = {"owner": owner.id, "other": other.id}
    yield app
    app.extensions["assembly_engine"].dispose()
    databases.release(url)


@pytest.fixture
def shared_db(shared_app):
    with Session(shared_app.extensions["assembly_engine"], expire_on_commit=False) as session:
        yield session


def _client_as(app, who: str | None):
    """A test client logged in as "owner" or "other" (None: anonymous), without a password round trip."""
    client = app.test_client()
    if who is not None:
        log_in(client, app.config["_ids"][who])
    return client


REQUESTS = [("get", path, None) for path in GET_PATHS] + [("post", path, data) for path, data in POSTS]


@pytest.mark.parametrize(("method", "path", "data"), [
    ("get", "/facilitate/", None), ("get", "/facilitate/new", None), ("get", "/facilitate/rows", None),
    ("post", "/facilitate/new", VALID), *REQUESTS,
])
def test_anonymous_is_sent_to_login_and_changes_nothing(shared_app, shared_db, method, path, data):
    before = _snapshot(shared_db, "budget"), len(shared_db.exec(select(Assembly)).all())
    response = getattr(_client_as(shared_app, None), method)(path, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    assert (_snapshot(shared_db, "budget"), len(shared_db.exec(select(Assembly)).all())) == before


@pytest.mark.parametrize(("method", "path", "data"), REQUESTS)
def test_other_facilitator_is_refused_and_changes_nothing(shared_app, shared_db, method, path, data):
    before = _snapshot(shared_db, "budget")
    client = _client_as(shared_app, "other")
    assert getattr(client, method)(path, data=data).status_code == 403
    assert _snapshot(shared_db, "budget") == before
    assert b"City budget" not in client.get("/facilitate/").data


def test_unknown_assembly_is_404(client, auth):
    auth.login()
    assert client.get("/facilitate/nothing-here/").status_code == 404


def test_home_lists_own_assemblies_with_counts(client, auth, db, owned):
    db.add(Assembly(slug="not-mine", title="Somebody else's", owner_id=None))
    db.commit()
    p = create_participant(db, owned)
    record_vote(db, owned, p, 0, 1)
    record_vote(db, owned, p, 0, -1)  # a change of mind: two events, one latest vote
    auth.login()
    html = client.get("/facilitate/").get_data(as_text=True)
    assert "City budget" in html and "Somebody else" not in html
    assert 'hx-trigger="every 5s"' in html
    row = client.get("/facilitate/rows").get_data(as_text=True)
    cells = re.findall(r'<td class="num">(?:<a[^>]*>)?(\d+)', row)
    assert cells == ["1", "1", "2", "0"]  # participants, latest votes, statements, pending


def test_create_valid(client, auth, db):
    auth.login()
    response = client.post("/facilitate/new", data=VALID)
    assert response.status_code == 302 and response.headers["Location"] == "/facilitate/new-one/"
    a = _get(db, "new-one")
    assert a.owner_id == _owner_id(db)
    assert (a.language, a.statement_max_length, a.participants_can_write, a.strict_moderation, a.is_open) == (
        "zh-Hant-TW", 300, True, False, True)


@pytest.mark.parametrize(("field", "value"), [
    ("slug", "ab"), ("slug", "Has-Capitals"), ("slug", "under_score"), ("slug", "-edge"), ("slug", "a" * 81),
    ("slug", "budget"), ("slug", "new"), ("title", "  "), ("title", "t" * 201), ("language", "english"),
    ("language", "en--US"), ("language", ""), ("statement_max_length", "19"), ("statement_max_length", "1001"),
    ("statement_max_length", "many"),
])
def test_create_invalid_changes_nothing(shared_app, shared_db, field, value):
    response = _client_as(shared_app, "owner").post("/facilitate/new", data={**VALID, field: value})
    assert response.status_code == 400
    assert _errors(response.get_data(as_text=True)) == {field}
    assert len(shared_db.exec(select(Assembly)).all()) == 1


def test_edit_valid_and_invalid(client, auth, db, owned):
    auth.login()
    page = client.get("/facilitate/budget/edit").get_data(as_text=True)
    assert 'value="City budget"' in page and "checked" in page
    bad = {**VALID, "slug": "budget", "title": "", "language": "xx-notatag!"}
    response = client.post("/facilitate/budget/edit", data=bad)
    assert response.status_code == 400 and _errors(response.get_data(as_text=True)) == {"title", "language"}
    assert _get(db, "budget").title == "City budget"
    good = {**VALID, "slug": "budget-2026", "title": "Budget 2026", "language": "nan-latn-tw", "strict_moderation": "1"}
    response = client.post("/facilitate/budget/edit", data=good)
    assert response.headers["Location"] == "/facilitate/budget-2026/"
    a = _get(db, "budget-2026")
    assert (a.title, a.language, a.strict_moderation, a.id) == ("Budget 2026", "nan-Latn-TW", True, owned.id)


def test_language_is_a_choice_of_supported_languages(client, auth, db, owned):
    auth.login()
    page = client.get("/facilitate/new").get_data(as_text=True)
    select_html = re.search(r'<select id="language" name="language"[^>]*>(.*?)</select>', page, re.S)
    assert select_html is not None
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', select_html[1])
    assert [(tag, bool(sel)) for tag, sel, _name in options] == [
        ("en", True), ("zh-Hant-TW", False), ("nan-Hant-TW", False), ("nan-Latn-TW", False)]
    assert "Taigi, Tâi-lô romanisation (Taiwan) (nan-Latn-TW)" in page
    # A well-formed tag the platform does not support is refused on the server, nothing saved.
    response = client.post("/facilitate/new", data={**VALID, "language": "de-CH"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and _errors(html) == {"language"}
    assert "Choose the assembly&#39;s language from the list." in html
    assert db.exec(select(Assembly).where(Assembly.slug == "new-one")).first() is None


def test_edit_keeps_an_unlisted_current_language(client, auth, db, owned):
    owned.language = "nan-TW"  # made before the list (or through the API)
    db.add(owned)
    db.commit()
    auth.login()
    page = client.get("/facilitate/budget/edit").get_data(as_text=True)
    assert '<option value="nan-TW" selected>Current setting (nan-TW)</option>' in page
    response = client.post("/facilitate/budget/edit", data={**VALID, "slug": "budget", "language": "nan-TW"})
    assert response.status_code == 302
    response = client.post("/facilitate/budget/edit", data={**VALID, "slug": "budget", "language": "ja"})
    assert response.status_code == 400 and _errors(response.get_data(as_text=True)) == {"language"}
    db.expire_all()
    assert _get(db, "budget").language == "nan-TW"
    # Another assembly cannot pick that tag: only the assembly that has it keeps it.
    assert client.post("/facilitate/new", data={**VALID, "language": "nan-TW"}).status_code == 400


@pytest.mark.parametrize(("raw", "expected"), [
    ("en", "en"), ("EN-gb", "en-GB"), ("zh_hant_tw", "zh-Hant-TW"), ("nan-TW", "nan-TW"), ("es-419", "es-419"),
    ("de-CH-1996", "de-CH-1996"), ("ami", "ami"), ("en-US-x-twain", "en-US-x-twain"),
])
def test_language_tags_accepted_in_canonical_case(raw, expected):
    assert normalize_language(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["english", "e", "en-", "zh-Hant-Hans-TW", "de-1996-1996", "x-private", "en US"])
def test_language_tags_rejected(shared_app, raw):
    with shared_app.test_request_context():
        assert normalize_language(raw)[1] is not None


def test_bulk_seed_reports_every_line(client, auth, db, owned):
    auth.login()
    long_line = "x" * 281
    pasted = "\n".join(["Open the pools in summer.", "", "fund the buses!", long_line,
                        "Open the pools in summer.", f"  {XSS}  "])
    html = client.post("/facilitate/budget/seed", data={"statements": pasted}).get_data(as_text=True)
    assert "2 statements added." in html and "3 lines were not added" in html
    assert "already in the assembly (#0)" in html and "at most 280 characters" in html
    # The rejected lines come back in the textarea, the added ones do not.
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert textarea.splitlines() == ["fund the buses!", long_line, "Open the pools in summer."]
    texts = db.exec(select(Statement.text).where(Statement.assembly_id == owned.id, Statement.is_seed)).all()
    assert sorted(texts) == sorted(["Fund the buses.", "Lower the rates.", "Open the pools in summer.", XSS])


def test_bulk_seed_nothing_added_is_400(client, auth, db, owned):
    auth.login()
    assert client.post("/facilitate/budget/seed", data={"statements": " \n\n"}).status_code == 400
    assert client.post("/facilitate/budget/seed", data={"statements": "Lower the rates"}).status_code == 400
    too_many = "\n".join(f"Proposal number {i}." for i in range(SEED_MAX + 1))
    response = client.post("/facilitate/budget/seed", data={"statements": too_many})
    assert response.status_code == 400 and f"At most {SEED_MAX}" in response.get_data(as_text=True)
    assert len(db.exec(select(Statement).where(Statement.assembly_id == owned.id)).all()) == 2


def test_moderation_flow(client, auth, db, owned):
    participant = create_participant(db, owned)
    statement = add_statement(db, owned, "Publish every contract.", author=participant)
    assert statement.moderation == Moderation.pending
    assert statement.id not in {s.id for s in votable_statements(db, owned)}
    auth.login()
    queue = client.get("/facilitate/budget/moderation").get_data(as_text=True)
    assert "Publish every contract." in queue and "by participant 0" in queue
    assert "Fund the buses." not in queue  # accepted seeds are on another tab

    # Plain form post (no JavaScript): redirect back to the list the facilitator was on.
    response = client.post(f"/facilitate/budget/statements/{statement.tid}/moderate",
                           data={"action": "accept", "state": "pending"})
    assert response.headers["Location"] == "/facilitate/budget/moderation?state=pending"
    assert statement.id in {s.id for s in votable_statements(db, _get(db, "budget"))}

    # htmx: the row comes back with the new state, plus the counts swapped out of band.
    response = client.post(f"/facilitate/budget/statements/{statement.tid}/moderate",
                           data={"action": "reject", "state": "accepted"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'id="statement-{statement.tid}"' in html and "rejected" in html and 'hx-swap-oob="true"' in html
    assert statement.id not in {s.id for s in votable_statements(db, _get(db, "budget"))}

    client.post(f"/facilitate/budget/statements/{statement.tid}/moderate", data={"action": "meta"})
    db.expire_all()
    assert db.get(Statement, statement.id).is_meta
    counts = client.get("/facilitate/budget/moderation?state=rejected").get_data(as_text=True)
    assert re.search(r'Rejected <span class="count">1</span>', counts)
    assert client.post("/facilitate/budget/statements/0/moderate", data={"action": "delete"}).status_code == 400
    assert client.post("/facilitate/budget/statements/99/moderate", data={"action": "accept"}).status_code == 404


def test_close_and_reopen_block_votes(client, auth, db, owned):
    participant = create_participant(db, owned)
    auth.login()
    client.post("/facilitate/budget/close")
    with pytest.raises(AssemblyError) as closed:
        record_vote(db, _get(db, "budget"), participant, 0, 1)
    assert closed.value.status == 409
    assert "Reopen the assembly" in client.get("/facilitate/budget/").get_data(as_text=True)
    client.post("/facilitate/budget/reopen")
    assert record_vote(db, _get(db, "budget"), participant, 0, 1).value == 1


def test_stats_partial_counts_votes_today(client, auth, db, owned):
    for value in (1, -1):
        record_vote(db, owned, create_participant(db, owned), 1, value)
    auth.login()
    html = client.get("/facilitate/budget/stats").get_data(as_text=True)
    assert html.lstrip().startswith('<section id="fac-stats"') and 'hx-trigger="every 5s"' in html
    assert re.search(r"<dt>Participants</dt><dd>2</dd>", html)
    today = datetime.now(UTC).date().isoformat()
    assert f"<title>{today}: 2</title>" in html


def test_allow_list_round_trip(client, auth, db, owned):
    auth.login()
    response = client.post("/facilitate/budget/invites/add", data={"xids": "alice\n\nbob smith/2&x=1\n"})
    assert response.status_code == 302
    page = client.get("/facilitate/budget/invites").get_data(as_text=True)
    app = client.application
    alice, bob = invite_query(app, "budget", "alice"), invite_query(app, "budget", "bob smith/2&x=1")
    assert bob.startswith("xid=bob%20smith%2F2%26x%3D1&invite=")
    assert f"http://localhost/a/budget?{bob}".replace("&", "&amp;") in page
    csv_text = client.get("/facilitate/budget/invites.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1:] == [f"alice,http://localhost/a/budget?{alice}",
                                         f"bob smith/2&x=1,http://localhost/a/budget?{bob}"]

    # Like seeding: the good lines are added, each bad line (a repeat, an over-long id) is reported with its
    # line number and left in the box; ids already listed are skipped, not doubled.
    response = client.post("/facilitate/budget/invites/add", data={"xids": "carol\ncarol\n\n" + "z" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 lines were not added:" in html
    assert "Line 2 repeats line 1 (carol)." in html and "Line 4: an id can be at most 200 characters." in html
    assert re.search(r'<textarea id="xids"[^>]*>carol\n' + "z" * 201 + "</textarea>", html)
    # Only bad lines: nothing to add, 400.
    response = client.post("/facilitate/budget/invites/add", data={"xids": "z" * 201})
    assert response.status_code == 400 and "1 line was not added:" in response.get_data(as_text=True)
    client.post("/facilitate/budget/invites/add", data={"xids": "alice\ndave"})
    xids = db.exec(select(XidAllow.xid).where(XidAllow.assembly_id == owned.id)).all()
    assert sorted(xids) == ["alice", "bob smith/2&x=1", "carol", "dave"]

    client.post("/facilitate/budget/invites/required", data={"xid_required": "1"})
    a = _get(db, "budget")
    assert a.xid_required
    dave = parse_qs(invite_query(app, "budget", "dave"))["invite"][0]
    with app.app_context():  # invite keys are signed with the app's secret
        bob_key = parse_qs(bob)["invite"][0]
        assert create_participant(db, a, xid="bob smith/2&x=1", invite=bob_key).xid == "bob smith/2&x=1"
        with pytest.raises(AssemblyError):
            create_participant(db, a, xid="mallory")
        with pytest.raises(AssemblyError):
            create_participant(db, a, xid="alice")  # on the list, but without its key
        client.post("/facilitate/budget/invites/remove", data={"xid": "dave"})
        with pytest.raises(AssemblyError):
            create_participant(db, _get(db, "budget"), xid="dave", invite=dave)
    assert client.post("/facilitate/budget/invites/required", data={"xid_required": "maybe"}).status_code == 400
    assert _get(db, "budget").xid_required


def test_user_text_is_escaped_on_every_page(client, auth, db, owned):
    owned.title, owned.question = XSS, XSS
    db.add(owned)
    db.commit()
    participant = create_participant(db, owned)
    add_statement(db, owned, XSS, author=participant)
    db.add(XidAllow(assembly_id=owned.id, xid=XSS))
    db.commit()
    auth.login()
    pages = ["/facilitate/", "/facilitate/rows", "/facilitate/budget/", "/facilitate/budget/edit",
             "/facilitate/budget/moderation", "/facilitate/budget/invites"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert XSS not in html, path
    rejected = client.post("/facilitate/budget/seed", data={"statements": XSS}).get_data(as_text=True)
    assert "&lt;script&gt;" in rejected and XSS not in rejected
    row = client.post("/facilitate/budget/statements/2/moderate", data={"action": "accept"},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "&lt;script&gt;" in row and XSS not in row


def test_forms_need_a_csrf_token(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "k",
                      "RATELIMIT_ENABLED": False})
    upgrade(app.extensions["assembly_engine"])
    client = app.test_client()
    with Session(app.extensions["assembly_engine"]) as db:
        log_in(client, create_facilitator(db, FACILITATOR_EMAIL, "a long enough password").id)
    page = client.get("/facilitate/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/facilitate/new", data=VALID).status_code == 400
    with Session(app.extensions["assembly_engine"]) as db:
        assert db.exec(select(Assembly)).all() == []
    assert client.post("/facilitate/new", data={**VALID, "csrf_token": token}).status_code == 302


def test_short_name_is_fixed_once_people_have_joined(client, auth, db, owned):
    from assembly.voting.rules import create_participant

    auth.login()
    create_participant(db, owned)
    renamed = {**VALID, "slug": "budget-2027", "title": "City budget"}
    response = client.post("/facilitate/budget/edit", data=renamed)
    assert response.status_code == 400 and _errors(response.get_data(as_text=True)) == {"slug"}
    assert "cannot change once people have joined" in response.get_data(as_text=True)
    assert _get(db, "budget").title == "City budget"
    # Other fields still save with the same short name.
    kept = {**VALID, "slug": "budget", "title": "City budget 2027"}
    assert client.post("/facilitate/budget/edit", data=kept).status_code == 302
    assert _get(db, "budget").title == "City budget 2027"
