"""Facilitator accounts: password login for the browser, bearer tokens for the API and CLI.

Passwords are stored as werkzeug scrypt hashes; API tokens only as SHA-256
digests, so a leaked database does not leak working credentials.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import click
from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from assembly.db import get_session
from assembly.models import ApiToken, Facilitator, utcnow
from assembly.security import login_allowed
from assembly.tokens import TokenKind, bearer_of, new_token

bp = Blueprint("auth", __name__, url_prefix="/auth")

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


def issue_token(db: Session, facilitator: Facilitator, name: str) -> str:
    """Create an API token and return it; only its hash is kept."""
    token = new_token(TokenKind.facilitator)
    db.add(ApiToken(facilitator_id=facilitator.id, name=name, token_hash=hash_token(token)))
    db.commit()
    return token


def facilitator_from_token(db: Session, token: str) -> Facilitator | None:
    row = db.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked == False)).first()  # noqa: E712
    if row is None:
        return None
    row.last_used_at = utcnow()
    db.add(row)
    db.commit()
    return db.get(Facilitator, row.facilitator_id)


def current_facilitator() -> Facilitator | None:
    """The facilitator of this request: browser session first, then an `Authorization: Bearer` token."""
    if "facilitator" in g:
        return g.facilitator
    db = get_session()
    fac = None
    if session.get("facilitator_id"):
        fac = db.get(Facilitator, session["facilitator_id"])
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
            session.clear()
            session["facilitator_id"] = fac.id
            nxt = request.args.get("next", "")
            # Only same-site paths, never an absolute URL (open redirect).
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = url_for("facilitator.index")
            return redirect(nxt)
    # A failed attempt keeps the e-mail, so only the password is typed again.
    return render_template("auth/login.html", error=error, email=email), (400 if error else 200)


@bp.post("/logout")
def logout():
    session.pop("facilitator_id", None)
    flash(_("Logged out."))
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


@facilitator_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
def token_cmd(email: str, name: str) -> None:
    """Issue an API token for EMAIL and print it (shown once)."""
    db = get_session()
    fac = db.exec(select(Facilitator).where(Facilitator.email == email.strip().lower())).first()
    if fac is None:
        raise click.ClickException(f"no facilitator {email}")
    click.echo(issue_token(db, fac, name))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(facilitator_cli)
