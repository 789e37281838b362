"""htmx requests, in one place: flask-htmx's `htmx` says whether a request is htmx's, and every
response says it depends on that (`Vary: HX-Request`).

The same URL answers a fragment to htmx and a whole page to everyone else (Post/Redirect/Get
for plain forms). Without `Vary` on every such response a shared cache could hand the 77-byte
results fragment to someone opening /a/SLUG/results; it was set on one blueprint only.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_htmx import HTMX

htmx = HTMX()  # bool(htmx): this request was made by htmx (HX-Request: true); also `htmx` in templates


def page_or_fragment(page: str, fragment: str) -> str:
    """The template that answers this request: `fragment` to htmx, the whole `page` otherwise."""
    return fragment if htmx else page


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    htmx.init_app(app)
    app.after_request(_vary)
