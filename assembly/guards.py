"""Request-level input guards: body size per route, JSON nesting depth, lone UTF-16 surrogates.

They run before any view, so a refused request reaches no view code and writes nothing:
- **Body size.** Every route accepts `MAX_BODY_BYTES` (small: a vote, a form, one statement);
  only views marked with `@bulk_body` (seeding a list of statements) accept
  `MAX_BULK_BODY_BYTES`. werkzeug answers 413 as soon as the body is read past the limit.
- **Nesting.** Python's JSON parser recurses per bracket: 100,000 `[` raise `RecursionError`
  (a 500). Bodies deeper than `MAX_JSON_DEPTH` are refused with a 400; no API input nests
  more than a few levels.
- **Surrogates.** `"\\ud800"` is valid JSON but not Unicode text: the database driver cannot
  encode it (a 500, after a participant row may already be written). It is refused with a 400.
  A lone surrogate can only arrive as a `\\u` escape (raw ones are invalid UTF-8), so the
  bytes are searched first and the parsed value is walked only on a hit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

F = TypeVar("F", bound=Callable[..., Any])

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_BULK_VIEWS: set[str] = set()


def bulk_body(view: F) -> F:
    """Mark a view that accepts a large body (`MAX_BULK_BODY_BYTES`), e.g. a list of seed statements."""
    _BULK_VIEWS.add(f"{view.__module__}.{view.__qualname__}")
    return view


def _is_bulk() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    while view is not None:
        if f"{view.__module__}.{view.__qualname__}" in _BULK_VIEWS:
            return True
        view = getattr(view, "__wrapped__", None)  # flask-openapi3 and flask-limiter wrap views
    return False


def _depth(value: Any, limit: int) -> bool:
    """Is `value` nested deeper than `limit`? Iterative, so a deep value cannot overflow the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item)
    return False


def _lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _guard() -> None:
    req = request._get_current_object()  # type: ignore[attr-defined]
    if _is_bulk():
        req.max_content_length = current_app.config["MAX_BULK_BODY_BYTES"]
    if not req.is_json or req.method in {"GET", "HEAD", "OPTIONS"}:
        return
    data = req.get_data(cache=True)  # 413 here when the body is over the route's limit
    limit = current_app.config["MAX_JSON_DEPTH"]
    brackets = data.count(b"[") + data.count(b"{")
    surrogate = _SURROGATE_ESCAPE.search(data) is not None
    if brackets <= limit and not surrogate:
        return  # the vote path: two byte counts and one regex search, no parse
    try:
        value = json.loads(data)
    except RecursionError:
        abort(400, f"JSON nested deeper than {limit} levels is not accepted")
    except ValueError:
        return  # not JSON at all: the view's own parsing answers with its usual error
    if brackets > limit and _depth(value, limit):
        abort(400, f"JSON nested deeper than {limit} levels is not accepted")
    if surrogate and _lone_surrogate(value):
        abort(400, "text in a request must be valid Unicode (a lone UTF-16 surrogate such as \\ud800 is not)")


def init_app(app: Flask) -> None:
    # Registered before the other guards (security's NUL check reads the body), so the limit applies first.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.before_request(_guard)
