"""Bearer tokens: the two kinds, how each is made, and how a request's token is read. The one place.

A participant token (`pt_...`) is the participant's credential; a facilitator API token
(`aa_...`) stands for a facilitator account. The auth scheme is case-insensitive (RFC 7235
section 2.1), so `bearer aa_...` and `Bearer aa_...` mean the same; before this module five
parsers disagreed and the lowercase form got 401.
"""

from __future__ import annotations

import enum
import secrets

from flask import request

PARTICIPANT_PREFIX = "pt_"
FACILITATOR_PREFIX = "aa_"
_SCHEME = "bearer"


class TokenKind(enum.Enum):
    participant = PARTICIPANT_PREFIX
    facilitator = FACILITATOR_PREFIX


def new_token(kind: TokenKind) -> str:
    """A fresh secret of `kind`: its prefix and 32 random bytes, URL-safe."""
    return kind.value + secrets.token_urlsafe(32)


def parse_authorization(header: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header ("" when empty); None for another scheme."""
    scheme, _sep, credentials = (header or "").strip().partition(" ")
    if scheme.lower() != _SCHEME:
        return None
    return credentials.strip()


def kind_of(token: str | None) -> TokenKind | None:
    """Which kind of token this is by its prefix; None for an unknown one."""
    if not token:
        return None
    for kind in TokenKind:
        if token.startswith(kind.value):
            return kind
    return None


def bearer_token() -> str | None:
    """The request's bearer token, of any kind (None without an Authorization: Bearer header)."""
    return parse_authorization(request.headers.get("Authorization"))


def bearer_of(kind: TokenKind) -> str | None:
    """The request's bearer token if it is of `kind`, else None."""
    token = bearer_token()
    return token if kind_of(token) is kind else None
