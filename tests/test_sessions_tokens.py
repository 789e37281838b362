"""Facilitator logins live on the server (logout ends them), and API tokens expire and can be revoked (issue 11)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from assembly.auth import SESSION_KEY, hash_token, issue_token
from assembly.models import ApiToken, Facilitator, FacilitatorSession, utcnow
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, log_in, make_app

NEW_PASSWORD = "a brand new passphrase"


def _login(client, password: str = FACILITATOR_PASSWORD):
    return client.post("/auth/login", data={"email": FACILITATOR_EMAIL, "password": password})


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A different browser that was handed a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/facilitate/")


def _facilitator(db) -> Facilitator:
    return db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()


def test_a_copied_cookie_replayed_after_logout_no_longer_reaches_the_facilitator_pages(app, client, db):
    assert _login(client).status_code == 302
    copied = _cookie(client)
    assert _replay(app, copied).status_code == 200  # the copy works while the login lasts...
    client.post("/auth/logout")
    replay = _replay(app, copied)  # ...and not after the owner logged out
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/auth/login")
    assert db.exec(select(FacilitatorSession)).all() == []


def test_the_cookie_holds_only_a_random_session_key(app, client, db):
    _login(client)
    data = app.session_interface.get_signing_serializer(app).loads(_cookie(client))
    assert set(data) - {"_permanent"} == {SESSION_KEY}  # no facilitator id, no e-mail
    row = db.exec(select(FacilitatorSession)).one()
    assert row.key_hash == hash_token(data[SESSION_KEY]) and row.facilitator_id == _facilitator(db).id
    assert data[SESSION_KEY] not in repr(row)  # only its hash is stored


def test_an_old_cookie_with_a_facilitator_id_is_no_login(app, db):
    client = app.test_client()
    with client.session_transaction() as s:
        s["facilitator_id"] = _facilitator(db).id  # the signed cookie of before server-side sessions
    assert client.get("/facilitate/").status_code == 302


def test_log_out_everywhere_ends_every_session_of_the_account(app, db):
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop)
    _login(phone)
    from assembly.auth import create_facilitator

    second = create_facilitator(db, "other@example.org", "another long password")
    someone_else = app.test_client()
    log_in(someone_else, second.id)
    assert laptop.get("/facilitate/").status_code == 200 and phone.get("/facilitate/").status_code == 200
    assert laptop.post("/auth/logout-everywhere").status_code == 302
    assert laptop.get("/facilitate/").status_code == 302 and phone.get("/facilitate/").status_code == 302
    assert someone_else.get("/facilitate/").status_code == 200
    assert [r.facilitator_id for r in db.exec(select(FacilitatorSession))] == [second.id]


def test_a_password_change_ends_all_sessions(app, client, db, runner):
    _login(client)
    result = runner.invoke(args=["facilitator", "password", FACILITATOR_EMAIL, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "1 login session(s) ended" in result.output
    assert client.get("/facilitate/").status_code == 302
    assert _login(app.test_client()).status_code == 400  # the old password is gone
    assert _login(app.test_client(), NEW_PASSWORD).status_code == 302
    short = runner.invoke(args=["facilitator", "password", FACILITATOR_EMAIL, "--password", "short"])
    assert short.exit_code != 0 and "at least 10" in short.output
    assert runner.invoke(args=["facilitator", "password", "nobody@example.org", "--password", NEW_PASSWORD]).exit_code


def test_a_login_lasts_login_session_days(database_url):
    app = make_app(database_url, LOGIN_SESSION_DAYS=3)
    client = app.test_client()
    _login(client)
    with Session(app.extensions["assembly_engine"]) as db:
        row = db.exec(select(FacilitatorSession)).one()
        assert timedelta(days=2, hours=23) < row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None) \
            <= timedelta(days=3)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert client.get("/facilitate/").status_code == 302
    app.extensions["assembly_engine"].dispose()


@pytest.mark.parametrize("days", [0, 3651])
def test_session_and_token_days_are_checked_at_start(database_url, days):
    from assembly.settings import resolve

    for name in ("LOGIN_SESSION_DAYS", "API_TOKEN_DAYS"):
        with pytest.raises(ValueError, match=name):
            resolve({name: days}, environ={})


# -- API tokens ---------------------------------------------------------------------------------


def _issue(app, db, days: int | None = None) -> str:
    with app.app_context():
        return issue_token(db, _facilitator(db), "script", days)


def _api(client, token: str):
    return client.post("/api/assemblies", json={"slug": "tok-check", "title": "T"},
                       headers={"Authorization": f"Bearer {token}"})


def test_a_token_expires_after_api_token_days(database_url):
    app = make_app(database_url, API_TOKEN_DAYS=7)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        token = _issue(app, db)
        row = db.exec(select(ApiToken)).one()
        left = row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
        assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert _api(app.test_client(), token).status_code == 401
    app.extensions["assembly_engine"].dispose()


def test_tokens_are_listed_and_revoked_on_the_command_line(app, client, db, runner):
    token = _issue(app, db)
    listed = runner.invoke(args=["facilitator", "tokens", FACILITATOR_EMAIL])
    row = db.exec(select(ApiToken)).one()
    assert listed.exit_code == 0 and re.match(rf"{row.id}\tactive\texpires \d{{4}}-", listed.output)
    assert token not in listed.output
    assert _api(client, token).status_code == 201
    revoked = runner.invoke(args=["facilitator", "revoke-token", str(row.id)])
    assert revoked.exit_code == 0 and f"revoked token {row.id}" in revoked.output
    assert _api(client, token).status_code == 401
    assert "\trevoked\t" in runner.invoke(args=["facilitator", "tokens", FACILITATOR_EMAIL]).output
    assert runner.invoke(args=["facilitator", "revoke-token", "999"]).exit_code != 0
    days = runner.invoke(args=["facilitator", "token", FACILITATOR_EMAIL, "--days", "0"])
    assert days.exit_code != 0


def test_the_tokens_page_lists_your_tokens_and_revokes_one_with_csrf(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    with Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        token = _issue(app, db)
        from assembly.auth import create_facilitator

        other = create_facilitator(db, "other@example.org", "another long password")
        with app.app_context():
            theirs = issue_token(db, other, "not yours")
        mine_id = db.exec(select(ApiToken.id).where(ApiToken.name == "script")).one()
        their_id = db.exec(select(ApiToken.id).where(ApiToken.name == "not yours")).one()
        client = app.test_client()
        log_in(client, _facilitator(db).id)
    page = client.get("/facilitate/tokens", headers={"Accept-Language": "en"}).text
    assert "script" in page and "not yours" not in page and token not in page
    assert f'action="/facilitate/tokens/{mine_id}/revoke"' in page
    assert client.post(f"/facilitate/tokens/{mine_id}/revoke").status_code == 400  # no CSRF token
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/facilitate/tokens/{their_id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/facilitate/tokens/{mine_id}/revoke", data={"csrf_token": csrf}).status_code == 302
    assert _api(app.test_client(), token).status_code == 401
    assert _api(app.test_client(), theirs).status_code == 201  # someone else's token is untouched
    zh = client.get("/facilitate/tokens", headers={"Accept-Language": "zh-TW"}).text
    assert "API 權杖" in zh
    app.extensions["assembly_engine"].dispose()


def test_the_upgrade_gives_old_tokens_an_expiry_and_old_invitees_new_links(empty_database_url):
    """Migration 0009: no token issued before expiry existed stays valid for ever; `?xid=` links lose their power."""
    from sqlalchemy import text

    from assembly.db import make_engine
    from assembly.migrate import upgrade

    engine = make_engine(empty_database_url)
    upgrade(engine, "0008_evals")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO facilitator (email, name, password_hash, created_at) "
                          "VALUES ('old@example.org', '', 'x', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO apitoken (facilitator_id, name, token_hash, created_at, revoked) "
                          "SELECT id, 'old', 'h', CURRENT_TIMESTAMP, false FROM facilitator"))
        conn.execute(text("INSERT INTO assembly (slug, title, question, description, language, strict_moderation, "
                          "participants_can_write, statement_max_length, is_open, xid_required, created_at, source) "
                          "VALUES ('old', 'Old', '', '', 'en', false, true, 280, true, true, CURRENT_TIMESTAMP, '')"))
        conn.execute(text("INSERT INTO xidallow (assembly_id, xid) SELECT id, 'm1' FROM assembly"))
        conn.execute(text("INSERT INTO xidallow (assembly_id, xid) SELECT id, 'm2' FROM assembly"))
    upgrade(engine)
    with Session(engine) as db:
        token = db.exec(select(ApiToken)).one()
        left = token.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
        assert timedelta(days=89) < left <= timedelta(days=90)
        from assembly.models import XidAllow

        nonces = [row.nonce for row in db.exec(select(XidAllow))]
        assert len(set(nonces)) == 2 and all(len(n) == 16 for n in nonces)
    engine.dispose()
