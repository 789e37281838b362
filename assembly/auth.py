"""Facilitator accounts: password login for the browser, bearer tokens for the API and CLI.

Passwords are stored as werkzeug scrypt hashes; API tokens and login-session keys only as
SHA-256 digests, so a leaked database does not leak working credentials.

A login is a `FacilitatorSession` row; the signed cookie holds only its random key. Logging
out deletes the row, so a copied cookie replayed afterwards reaches nothing; "log out
everywhere" and a password change (`flask facilitator password`) delete every row of the
account. API tokens expire after API_TOKEN_DAYS and can be revoked (the tokens page,
`flask facilitator revoke-token`).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_app_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlmodel import Session, delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from assembly.db import get_session
from assembly.models import ApiToken, Facilitator, FacilitatorSession, utcnow
from assembly.security import login_allowed
from assembly.settings import default as setting_default
from assembly.tokens import TokenKind, bearer_of, new_token

bp = Blueprint("auth", __name__, url_prefix="/auth")

SESSION_KEY = "facilitator_session"  # the cookie's entry: the random key of a FacilitatorSession row

MIN_PASSWORD = 10


@functools.cache
def _dummy_hash() -> str:
    """A hash of no one's password, checked when the e-mail is unknown (made once per process)."""
    return generate_password_hash(secrets.token_hex(16))


def create_facilitator(db: Session, email: str, password: str, name: str = "") -> Facilitator:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValueError("a facilitator needs a valid e-mail address")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if db.exec(select(Facilitator).where(Facilitator.email == email)).first():
        raise ValueError(f"a facilitator {email} already exists")
    f = Facilitator(email=email, name=name, password_hash=generate_password_hash(password))
    db.add(f)
    db.commit()
    return f


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they are UTC, as every stored time is."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def issue_token(db: Session, facilitator: Facilitator, name: str, days: int | None = None) -> str:
    """Create an API token valid for `days` (default API_TOKEN_DAYS) and return it; only its hash is kept."""
    if days is None:  # the app's setting; its default where no app is running (scripts, tests)
        days = current_app.config["API_TOKEN_DAYS"] if has_app_context() else setting_default("API_TOKEN_DAYS")
    if not 1 <= days <= 3650:
        raise ValueError("a token is valid for 1 to 3650 days")
    token = new_token(TokenKind.facilitator)
    db.add(ApiToken(facilitator_id=facilitator.id, name=name, token_hash=hash_token(token),
                    expires_at=utcnow() + timedelta(days=days)))
    db.commit()
    return token


def token_state(row: ApiToken) -> str:
    """'revoked', 'expired' or 'active': what a request with this token would meet."""
    if row.revoked:
        return "revoked"
    if row.expires_at is not None and _aware(row.expires_at) <= utcnow():
        return "expired"
    return "active"


def facilitator_from_token(db: Session, token: str) -> Facilitator | None:
    """The token's facilitator; None for an unknown, revoked or expired token (the API answers 401)."""
    row = db.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or token_state(row) != "active":
        return None
    row.last_used_at = utcnow()
    db.add(row)
    db.commit()
    return db.get(Facilitator, row.facilitator_id)


def revoke_token(db: Session, token_id: int, facilitator_id: int | None = None) -> ApiToken | None:
    """Revoke token `token_id` (only if it is `facilitator_id`'s, when given); None when there is no such token."""
    row = db.get(ApiToken, token_id)
    if row is None or (facilitator_id is not None and row.facilitator_id != facilitator_id):
        return None
    row.revoked = True
    db.add(row)
    db.commit()
    return row


def start_session(db: Session, facilitator_id: int) -> str:
    """Open a login session for LOGIN_SESSION_DAYS and return its key (what the cookie holds).

    The account's expired sessions are deleted on the way, so rows do not pile up.
    """
    now = utcnow()
    db.exec(delete(FacilitatorSession).where(FacilitatorSession.facilitator_id == facilitator_id,
                                             FacilitatorSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.add(FacilitatorSession(facilitator_id=facilitator_id, key_hash=hash_token(key),
                              expires_at=now + timedelta(days=current_app.config["LOGIN_SESSION_DAYS"])))
    db.commit()
    return key


def _session_row(db: Session) -> FacilitatorSession | None:
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not key:
        return None
    row = db.exec(select(FacilitatorSession).where(FacilitatorSession.key_hash == hash_token(key))).first()
    if row is None or _aware(row.expires_at) <= utcnow():
        return None
    return row


def end_sessions(db: Session, facilitator_id: int) -> int:
    """Delete every login session of the account (log out everywhere); how many there were."""
    result = db.exec(delete(FacilitatorSession).where(FacilitatorSession.facilitator_id == facilitator_id))
    db.commit()
    return result.rowcount


def has_login_cookie() -> bool:
    """Does the cookie claim a facilitator login? (No database lookup: for routing decisions.)"""
    return bool(session.get(SESSION_KEY))


def current_facilitator() -> Facilitator | None:
    """The facilitator of this request: browser session first, then an `Authorization: Bearer` token."""
    if "facilitator" in g:
        return g.facilitator
    db = get_session()
    fac = None
    row = _session_row(db)
    if row is not None:
        fac = db.get(Facilitator, row.facilitator_id)
    token = bearer_of(TokenKind.facilitator)
    if fac is None and token is not None:
        fac = facilitator_from_token(db, token)
    g.facilitator = fac
    return fac


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Redirect browsers to the login page; answer 401 to API clients."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_facilitator() is None:
            if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, email = None, ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        if not login_allowed(email):
            return render_template("auth/login.html", email=email, error=_(
                "Too many login attempts. Please wait a few minutes, then try again.")), 429
        fac = get_session().exec(select(Facilitator).where(Facilitator.email == email)).first()
        # An unknown e-mail costs the same scrypt hash as a known one, so timing reveals nothing.
        password_hash = fac.password_hash if fac is not None else _dummy_hash()
        if not check_password_hash(password_hash, password) or fac is None:
            error = _("Wrong e-mail or password.")
        else:
            session.clear()  # a fresh cookie: nothing from before the login carries over
            session[SESSION_KEY] = start_session(get_session(), fac.id)
            session.permanent = True
            nxt = request.args.get("next", "")
            # Only same-site paths, never an absolute URL (open redirect).
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = url_for("facilitator.index")
            return redirect(nxt)
    # A failed attempt keeps the e-mail, so only the password is typed again.
    return render_template("auth/login.html", error=error, email=email), (400 if error else 200)


@bp.post("/logout")
def logout():
    """End this login on the server: the row goes, so the cookie (or a copy of it) reaches nothing."""
    db = get_session()
    row = _session_row(db)
    if row is not None:
        db.delete(row)
        db.commit()
    session.pop(SESSION_KEY, None)
    g.pop("facilitator", None)
    flash(_("Logged out."))
    return redirect(url_for("auth.login"))


@bp.post("/logout-everywhere")
def logout_everywhere():
    """End every login of this account, on every device (a lost laptop, a shared computer)."""
    db = get_session()
    row = _session_row(db)
    if row is not None:
        n = end_sessions(db, row.facilitator_id)
        flash(ngettext("Logged out of %(num)d session.", "Logged out of %(num)d sessions.", n))
    session.pop(SESSION_KEY, None)
    g.pop("facilitator", None)
    return redirect(url_for("auth.login"))


@click.group("facilitator", cls=AppGroup)
def facilitator_cli() -> None:
    """Facilitator accounts and API tokens."""


@facilitator_cli.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
@click.option("--name", default="", help="Display name.")
def create_cmd(email: str, password: str, name: str) -> None:
    """Create a facilitator account."""
    try:
        create_facilitator(get_session(), email, password, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created facilitator {email}")


def _facilitator_or_fail(db: Session, email: str) -> Facilitator:
    fac = db.exec(select(Facilitator).where(Facilitator.email == email.strip().lower())).first()
    if fac is None:
        raise click.ClickException(f"no facilitator {email}")
    return fac


@facilitator_cli.command("password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
def password_cmd(email: str, password: str) -> None:
    """Set EMAIL's password; every login session of the account ends (API tokens stay)."""
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"a password needs at least {MIN_PASSWORD} characters")
    db = get_session()
    fac = _facilitator_or_fail(db, email)
    fac.password_hash = generate_password_hash(password)
    db.add(fac)
    db.commit()
    ended = end_sessions(db, fac.id)
    click.echo(f"password changed for {fac.email}; {ended} login session(s) ended")


@facilitator_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Days the token is valid (default: the API_TOKEN_DAYS setting).")
def token_cmd(email: str, name: str, days: int | None) -> None:
    """Issue an API token for EMAIL and print it (shown once)."""
    db = get_session()
    click.echo(issue_token(db, _facilitator_or_fail(db, email), name, days))


@facilitator_cli.command("tokens")
@click.argument("email")
def tokens_cmd(email: str) -> None:
    """List EMAIL's API tokens: id, state, expiry, last use and name (never the token itself)."""
    db = get_session()
    fac = _facilitator_or_fail(db, email)
    rows = db.exec(select(ApiToken).where(ApiToken.facilitator_id == fac.id).order_by(ApiToken.id)).all()
    if not rows:
        click.echo(f"{fac.email} has no API tokens")
    for row in rows:
        expires = _aware(row.expires_at).strftime("%Y-%m-%d %H:%M UTC") if row.expires_at else "never"
        used = _aware(row.last_used_at).strftime("%Y-%m-%d %H:%M UTC") if row.last_used_at else "never used"
        click.echo(f"{row.id}\t{token_state(row)}\texpires {expires}\t{used}\t{row.name}")


@facilitator_cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token_cmd(token_id: int) -> None:
    """Revoke API token TOKEN_ID (the id `flask facilitator tokens` lists); it is refused from now on."""
    row = revoke_token(get_session(), token_id)
    if row is None:
        raise click.ClickException(f"no API token {token_id}")
    click.echo(f"revoked token {row.id} ({row.name})")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(facilitator_cli)
