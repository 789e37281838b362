"""Statement text keys: when two statements say the same thing, for the unique index that refuses the second.

Plumbing, not a feature's rule, because three places must agree on it byte for byte: new
statements (`voting.rules`), the Polis import (`polis.write`) and the migration that
backfilled the key (0006). The key is a sha256 of the normalised text, so the index stays
small whatever the statement's length (PostgreSQL's btree refuses entries over ~2.7 kB).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_text(text: str) -> str:
    """Duplicate detection's view of a text: NFKC, case-folded, punctuation and extra spaces removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def text_key(text: str) -> str:
    """The value of `Statement.text_key`: sha256 hex of the normalised text."""
    return hashlib.sha256(normalize_text(text).encode()).hexdigest()
