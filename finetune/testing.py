"""A planted constitution export with a known answer, for tests of the dataset and training (tests only).

Two opinion groups, A (30 people) and B (20): statements both groups agree with (the principles),
statements A backs and B rejects (divisive), statements both reject, a mixed one, one with too few
votes and one moderated out. One statement carries an e-mail, a phone number and a URL, and its
evidence carries an author id and an xid that must never reach a record.
"""

from __future__ import annotations

import hashlib
from typing import Any

from finetune.files import canonical_json

TEXTS = {
    "en": {"consensus": "Drivers must hold a professional licence {i}",
           "divisive": "Ride-sharing apps should be banned {i}",
           "rejected": "Passengers need no insurance {i}", "mixed": "Prices should float freely {i}",
           "thin": "A statement almost nobody saw", "moderated": "Spam spam spam",
           "question": "How should ride-sharing be regulated?", "private": "Write to jane.doe@example.com, "
           "call 0912-345-678 or see https://example.org/x for licensing help"},
    "zh-Hant-TW": {"consensus": "司機必須持有職業駕照 {i}", "divisive": "應該禁止共乘平台 {i}",
                   "rejected": "乘客不需要保險 {i}", "mixed": "車資應該自由浮動 {i}", "thin": "幾乎沒人看過的陳述",
                   "moderated": "廣告廣告", "question": "共乘應該如何規範？",
                   "private": "請寫信到 jane.doe@example.com，打 0912-345-678，或看 https://example.org/x 了解駕照"},
}
# (kind, count, group A agree/disagree/pass, group B agree/disagree/pass)
PLAN = [
    ("consensus", 12, (24, 3, 3), (16, 2, 2)),
    ("divisive", 6, (24, 3, 3), (3, 15, 2)),
    ("divisive", 2, (16, 10, 4), (2, 16, 2)),  # A backs it less than the principles: bridging pairs
    ("rejected", 4, (4, 22, 4), (2, 16, 2)),
    ("mixed", 2, (10, 10, 10), (7, 7, 6)),
    ("thin", 1, (1, 0, 0), (1, 0, 0)),
]


def _evidence(tid: int, text: str, a: tuple[int, int, int], b: tuple[int, int, int]) -> dict[str, Any]:
    groups = []
    for g, (ag, di, pa) in enumerate((a, b)):
        seen = ag + di + pa
        groups.append({"group": g, "label": "AB"[g], "agree": ag, "disagree": di, "pass": pa, "seen": seen,
                       "agree_share": ag / seen if seen else None, "smoothed": (ag + 1) / (seen + 2)})
    tot = [sum(x) for x in zip(a, b, strict=True)]
    gic = groups[0]["smoothed"] * groups[1]["smoothed"]
    return {"tid": tid, "text": text, "gic": gic, "groups": groups,
            "votes": {"agree": tot[0], "disagree": tot[1], "pass": tot[2], "seen": sum(tot),
                      "agree_share": tot[0] / sum(tot)}}


def planted_constitution(language: str = "en", status: str = "published") -> dict[str, Any]:
    """The planted export (the shape of docs/constitution.schema.json) in English or zh-Hant-TW."""
    t = TEXTS[language]
    principles, excluded, tid, seen = [], [], 0, {}
    for kind, count, a, b in PLAN:
        for _ in range(count):
            i = seen[kind] = seen.get(kind, -1) + 1
            text = t["private"] if (kind, i) == ("consensus", 0) else t[kind].format(i=i + 1)
            ev = _evidence(tid, text, a, b)
            if kind == "consensus":
                if i == 0:
                    ev["author"], ev["xid"] = 4242, "xid-secret-4242"  # must never reach a record
                principles.append({"id": f"p{len(principles) + 1}", "position": len(principles) + 1,
                                   "theme": "t1" if i % 2 else "t2", "text": text, "wording_edited": False,
                                   "training_form": f"Choose the response that agrees: {text}",
                                   "statements": [ev], "merged": []})
            else:
                reason = {"divisive": "divisive", "thin": "too_few_votes"}.get(kind, "low_agreement")
                excluded.append({"tid": tid, "text": text, "reason": reason, "detail": "",
                                 "groups": ["B"] if kind == "divisive" else [], "evidence": ev})
            tid += 1
    excluded.append({"tid": tid, "text": t["moderated"], "reason": "moderated_out", "detail": "rejected",
                     "groups": [], "evidence": _evidence(tid, t["moderated"], (20, 1, 1), (15, 1, 1))})
    doc = {
        "$schema": "https://alignment-assembly.example/schemas/constitution/1",
        "assembly": {"slug": "planted", "title": "Planted assembly", "question": t["question"],
                     "language": language, "source": ""},
        "version": {"number": 1 if status == "published" else None, "status": status, "previous": None,
                    "built_at": "2026-01-01T00:00:00Z", "published_at": "2026-01-01T00:00:00Z"},
        "process": {
            "participants": 50, "voters": 50, "vote_events": 1200,
            "statements": {"total": tid + 1, "accepted": tid, "rejected": 1, "pending": 0, "meta": 0},
            "moderation": {"strict": False},
            "clustering": {"method": "polis", "parameters": {}, "run_id": 7, "hash": "c" * 64,
                           "groups": [{"id": 0, "label": "A", "size": 30}, {"id": 1, "label": "B", "size": 20}],
                           "clustered_voters": 50, "unclustered_voters": 0},
            "consensus": {"metric": "group-informed consensus", "formula": "", "tau": 0.7, "floor": 0.6,
                          "min_vote_fraction": 0.05, "min_votes_floor": 10, "min_group_votes_floor": 3, "k": 2,
                          "gic_threshold": 0.49, "min_votes": 10, "min_group_votes": {"0": 3, "1": 3}},
            "similarity": {"method": "char-ngram-tfidf", "threshold": 0.6},
            "vote_snapshot": {"count": 1200, "sha256": "d" * 64},
        },
        "themes": [{"id": "t1", "label": "licences · safety"}, {"id": "t2", "label": "drivers · rules"}],
        "principles": principles, "excluded": excluded, "review": [], "diff_from_previous": None,
    }
    doc["content_hash"] = hashlib.sha256(canonical_json(doc).encode()).hexdigest()
    return doc
