"""CSRF protection, rate limits, cookie flags, the trusted-proxy setting and security headers.

CSRF is checked on every unsafe request except API calls that carry a bearer
token (a token is not sent by the browser on its own, so it cannot be forged
cross-site) or no session cookie at all. The HTML pages never take a bearer token:
there a made-up `Authorization` header skips nothing.

Rate limits key on the participant (token or cookie reference) when there is one, so a
classroom behind one NAT address is not throttled as a single person; a browser without a
participant yet is keyed by address *and* assembly, with its own, larger limit. Joining
(creating a participant) is limited per address and per assembly, so one script cannot
mint identities, each with fresh vote limits. Counts live in storage every worker shares
(an SQLite file by default, assembly/ratelimit_store.py). The limits and their settings
are listed in docs/security.md.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from assembly.embedding import frame_ancestors, parse_origins
from assembly.ratelimit_store import default_uri
from assembly.tokens import bearer_token

csrf = CSRFProtect()


def _api() -> bool:
    return request.path.startswith("/api/")


def participant_key() -> str:
    """Rate-limit key: the participant (API token, or the cookie's reference), else address and assembly.

    The token comes from tokens.bearer_token, so `bearer` and `Bearer` are one bucket. Only
    API calls are keyed by a bearer token: the pages ignore one, so a made-up header there
    cannot buy a fresh bucket per request.
    """
    slug = (request.view_args or {}).get("slug") or ""
    token = bearer_token() if _api() else None
    if token is not None:
        return "tok:" + token[:64]
    refs = session.get("participants") or {}
    if slug and slug in refs:
        return f"p:{refs[slug]}"
    return f"ip:{slug}:{get_remote_address()}"


limiter = Limiter(key_func=participant_key, default_limits=[])


def _newcomer() -> bool:
    return participant_key().startswith("ip:")


def votes_limit() -> str:
    """Votes per participant; a browser's first vote (no participant yet) counts per address and assembly."""
    return current_app.config["RATELIMIT_NEWCOMERS" if _newcomer() else "RATELIMIT_VOTES"]


def statements_limit() -> str:
    """Statements per participant; a first statement counts per address and assembly, like a first vote."""
    return current_app.config["RATELIMIT_NEWCOMERS" if _newcomer() else "RATELIMIT_STATEMENTS"]


def _hit(setting: str, *key: str) -> bool:
    """Count one hit against every limit in `setting` for `key`; False when one is exceeded."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    strategy = limiter.limiter
    return all([strategy.hit(item, *key) for item in parse_many(current_app.config[setting])])


def check_join(slug: str) -> None:
    """429 when this address, or anyone at all, has joined assembly `slug` too often lately."""
    if not (_hit("RATELIMIT_JOINS_PER_ADDRESS", "join-addr", slug, get_remote_address())
            and _hit("RATELIMIT_JOINS_PER_ASSEMBLY", "join-assembly", slug)):
        abort(429, "too many people joined from here just now; please try again in a few minutes")


def login_allowed(email: str) -> bool:
    """Count a login attempt; False when this account or this address has tried too often lately.

    Both are counted for every attempt, known e-mail or not, so the answer reveals nothing.
    """
    account = _hit("RATELIMIT_LOGIN_PER_ACCOUNT", "login-account", email[:254])
    address = _hit("RATELIMIT_LOGIN_PER_ADDRESS", "login-addr", get_remote_address())
    return account and address


def _embedding(app: Flask) -> bool:
    return bool(app.config["EMBED_ALLOWED_ORIGINS"].strip())


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie: SameSite=Lax, `Secure` when the request came over HTTPS (COOKIE_SECURE=auto).

    Behind a trusted proxy (TRUSTED_PROXIES) the scheme is the one the proxy reports in
    X-Forwarded-Proto, so a TLS-terminating proxy also gets Secure cookies.

    Where EMBED_ALLOWED_ORIGINS lets other sites frame the citizen pages, the cookie is
    SameSite=None; Secure: inside an iframe on another site a Lax cookie is never sent, so a
    participant's votes would not be remembered from one card to the next. Browsers keep a
    SameSite=None cookie only with Secure, hence always Secure then (the embed is over HTTPS).
    CSRF tokens still guard every form, so a cross-site request carrying the cookie forges nothing.
    """

    def get_cookie_samesite(self, app: Flask) -> str:
        return "None" if _embedding(app) else "Lax"

    def get_cookie_secure(self, app: Flask) -> bool:
        if _embedding(app):
            return True
        mode = app.config["COOKIE_SECURE"]
        if mode == "auto":
            return request.is_secure
        return mode == "always"


def _csrf_unless_bearer() -> None:
    if request.method in {"GET", "HEAD", "OPTIONS"} or not current_app.config["WTF_CSRF_ENABLED"]:
        return
    # csrf.protect() itself ignores WTF_CSRF_ENABLED (only Flask-WTF's own hook reads it).
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if _api() and bearer_token() is not None:
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
    # Everything is served from this origin: no third-party script, style or font. Framing only where
    # EMBED_ALLOWED_ORIGINS allows it, on the citizen pages (assembly/embedding.py).
    ancestors = frame_ancestors(parse_origins(current_app.config["EMBED_ALLOWED_ORIGINS"]))
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors {ancestors}",
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
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = default_uri(app.config["DATABASE_URL"], app.instance_path)
    limiter.init_app(app)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = _SessionInterface()
    if app.config["TRUSTED_PROXIES"]:
        # X-Forwarded-For/-Proto are believed only from the configured number of proxies in front.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
