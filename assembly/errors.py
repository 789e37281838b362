"""Error pages in the site's layout and the page's language, each with a way back.

Flask's bare "Not Found" is English, unstyled and a dead end. Every HTML 403, 404, 429 and 500
is rendered from templates/error.html instead: a sentence for the status, the abort's own
description when a view gave one (already in the request's language), and links back to the
assembly when the URL names one, else to the open assemblies. The JSON API (/api) keeps its
JSON errors: its blueprint handles its own, and unknown /api URLs answer JSON here.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext
from sqlmodel import select
from werkzeug.exceptions import HTTPException, InternalServerError

from assembly.db import get_session
from assembly.models import Assembly

HEADLINES = {
    400: lazy_gettext("This request could not be understood"),
    403: lazy_gettext("You may not see this page"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("This page cannot be used that way"),
    413: lazy_gettext("That is too large"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Something went wrong on our side"),
}
EXPLANATIONS = {
    400: lazy_gettext("Please go back and try again."),
    403: lazy_gettext("This page belongs to someone else, or you need to log in first."),
    404: lazy_gettext("There is nothing at this address. The link may be old or mistyped."),
    405: lazy_gettext("Please go back and try again."),
    413: lazy_gettext("Please send something smaller."),
    429: lazy_gettext("You are going a little fast. Please wait a minute, then try again."),
    500: lazy_gettext("Nothing you did caused this. Please try again in a moment."),
}
# Werkzeug's English defaults: replaced by our sentence, never shown.
_DEFAULT_DESCRIPTIONS = {cls.description for cls in HTTPException.__subclasses__() if cls.description}


def _assembly_of_url() -> Assembly | None:
    """The assembly the URL names (/a/SLUG/..., /facilitate/SLUG/...), if it exists."""
    slug = (request.view_args or {}).get("slug")
    if not slug:
        parts = request.path.strip("/").split("/")
        slug = parts[1] if len(parts) > 1 and parts[0] in {"a", "facilitate"} else None
    if not slug:
        return None
    try:
        return get_session().exec(select(Assembly).where(Assembly.slug == slug)).first()
    except Exception:  # an error page must render even when the database is the problem
        return None


def render_error_page(code: int, message: str | None = None) -> tuple[str, int]:
    """The error page for `code`, saying `message` (else the status's own sentence)."""
    fallback = 400 if code < 500 else 500
    html = render_template(
        "error.html", code=code, headline=HEADLINES.get(code, HEADLINES[fallback]),
        message=message or EXPLANATIONS.get(code, EXPLANATIONS[fallback]),
        assembly=_assembly_of_url() if code < 500 else None,
    )
    return html, code


def render_error(exc: HTTPException):
    code = exc.code or 500
    if request.path == "/api" or request.path.startswith("/api/"):
        response = jsonify({"error": exc.description or exc.name})
        response.status_code = code
        return response
    description = exc.description if exc.description not in _DEFAULT_DESCRIPTIONS else None
    if isinstance(exc, InternalServerError):
        description = None  # never show an exception's text to a visitor
    html, code = render_error_page(code, description)
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]  # Allow, Retry-After
    return html, code, headers


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)
