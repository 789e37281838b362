"""CSRF protection, per-participant rate limits and security headers.

CSRF is checked on every unsafe request except API calls that carry a bearer
token (a token is not sent by the browser on its own, so it cannot be forged
cross-site) or no session cookie at all. Rate limits key on the participant
cookie when there is one, so a classroom behind one NAT address is not
throttled as a single person.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from assembly.tokens import bearer_token

csrf = CSRFProtect()


def participant_key() -> str:
    """Rate-limit key: the participant token (cookie or bearer), else the client address."""
    token = bearer_token()
    if token is not None:
        return "tok:" + token[:64]
    tokens = session.get("participants") or {}
    slug = (request.view_args or {}).get("slug")
    if slug and slug in tokens:
        return "p:" + tokens[slug]
    return "ip:" + get_remote_address()


limiter = Limiter(key_func=participant_key, default_limits=[])


def _csrf_unless_bearer() -> None:
    if request.method in {"GET", "HEAD", "OPTIONS"} or not current_app.config["WTF_CSRF_ENABLED"]:
        return
    # csrf.protect() itself ignores WTF_CSRF_ENABLED (only Flask-WTF's own hook reads it).
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if bearer_token() is not None:
        return
    # An API call without the session cookie carries no ambient credentials to forge
    # (e.g. a script joining an assembly to get its first token), so there is nothing to protect.
    if request.path.startswith("/api/") and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return
    csrf.protect()


NUL = "\x00"
_FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _holds_nul(value: Any) -> bool:
    """Does a string anywhere in this parsed JSON value contain U+0000?"""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _refuse_nul() -> None:
    """A NUL character (U+0000) anywhere in a request's text is a 400, before any view runs.

    No person types one, and PostgreSQL text can neither store nor even be compared with
    one (the driver refuses the query: a 500), while SQLite would store it. Refusing it
    here gives both backends the same clear answer for every path, form and JSON field.
    Cheap on the vote path: raw bytes are searched first, JSON is walked only on a hit.
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    nul = NUL in req.path or b"%00" in req.query_string or NUL in req.headers.get("Authorization", "")
    if not nul and req.mimetype in _FORMS:
        nul = any(NUL in k or NUL in v for k, v in req.form.items(multi=True))
    if not nul and req.is_json:
        # Inside a JSON string a NUL can only be the escape \u0000 (a raw one is invalid JSON).
        nul = b"\\u0000" in req.get_data(cache=True) and _holds_nul(req.get_json(silent=True))
    if nul:
        abort(400, "text in a request may not contain the NUL character (U+0000)")


def _headers(response):
    # Everything is served from this origin: no third-party script, style or font.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


class BoundedInt(IntegerConverter):
    """`<int:...>` in URLs, limited to what a database integer holds: a larger number is a 404, not a crash."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    # Before any blueprint registers its rules, so every <int:...> uses the bounded converter.
    app.url_map.converters["int"] = BoundedInt
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(_csrf_unless_bearer)
    app.after_request(_headers)
    limiter.init_app(app)
