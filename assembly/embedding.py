"""Embedding: which sites may show the citizen pages in an iframe (Polis's main way of deployment).

vTaiwan embedded Polis in its own site. EMBED_ALLOWED_ORIGINS lists the origins allowed to frame
the citizen pages of every assembly (`Content-Security-Policy: frame-ancestors ...`); every other
page (facilitator, login, API) stays `frame-ancestors 'none'`, so a facilitator's session can
never be clickjacked. Empty (the default) forbids framing everywhere.
"""

from __future__ import annotations

import re

from flask import request

# Endpoints a citizen meets: voting, my votes, results and the published constitution.
EMBEDDABLE = frozenset({
    "participant.assembly", "participant.votes", "participant.vote", "participant.add", "results.page",
    "constitution.latest", "constitution.version_page",
})
_ORIGIN = re.compile(r"https?://(\*\.)?[a-z0-9.-]+(:\d{1,5})?")


def parse_origins(value: str) -> tuple[str, ...]:
    """Space- or comma-separated origins (https://example.org, https://*.example.org:8443); errors say which."""
    origins = tuple(o for o in re.split(r"[\s,]+", value.strip()) if o)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin.lower()):
            raise ValueError(f"EMBED_ALLOWED_ORIGINS: {origin!r} is not an origin like https://example.org "
                             "(scheme and host, no path)")
    return origins


def frame_ancestors(allowed: tuple[str, ...]) -> str:
    """The frame-ancestors source list for the current request."""
    if allowed and request.endpoint in EMBEDDABLE:
        return "'self' " + " ".join(allowed)
    return "'none'"
