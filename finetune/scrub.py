"""Privacy scrub: e-mail addresses, URLs and phone numbers in participants' text become placeholders.

Participants are pseudonymous, but they type what they like into statements. Before any text
enters a training record it passes through `Scrubber.text`, which replaces each match with a
placeholder and counts it; the dataset report shows the counts. Participant ids and xids never
reach this point: the dataset copies only whitelisted fields (see data.py).
"""

from __future__ import annotations

import re
from collections import Counter

# Order matters: e-mails first (their domain would pass for a URL), then URLs, then phone numbers.
PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),
    "url": re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'，。、）」]+"
                      r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|tw|io|gov|edu)(?:/[^\s<>\"'，。、）」]*)?\b"),
    # International (+886 2 2345 6789), Taiwanese mobile (0912-345-678), landline ((02) 2345-6789):
    # 8+ digits in groups separated by spaces, dots or dashes. Years and counts are shorter.
    "phone": re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?!\w)"),
}
PLACEHOLDER = {"email": "[email]", "url": "[url]", "phone": "[phone]"}


class Scrubber:
    """Replaces private details in text and counts them per kind across all calls."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._done: dict[str, str] = {}  # a text reused in several records is counted once

    def text(self, s: str) -> str:
        """Scrubbed copy of `s`; each replacement in a distinct text is counted once."""
        if s not in self._done:
            out = s
            for kind, pattern in PATTERNS.items():
                out = pattern.sub(lambda m, k=kind: self._sub(k, m), out)
            self._done[s] = out
        return self._done[s]

    def _sub(self, kind: str, m: re.Match[str]) -> str:
        if kind == "phone" and sum(c.isdigit() for c in m.group(0)) < 8:
            return m.group(0)  # a year, a price or a count, not a phone number
        self.counts[kind] += 1
        return PLACEHOLDER[kind]

    def report(self) -> dict[str, int]:
        """Counts per kind, every kind listed (zero included) so the report reads the same each time."""
        return {kind: self.counts.get(kind, 0) for kind in PATTERNS}
