"""Carry the facilitators' decisions from the previous published version into a new draft.

A new draft is rebuilt from the current votes, so without this every exclusion, merge, split,
wording edit and order change of the last review would be lost. Decisions are matched by
statement id (tid), never by position or principle id, because principle ids follow their first
statement and positions follow the votes:

- a statement the facilitators excluded stays excluded, with their reason;
- statements that shared a principle share one again (merges), and statements that were apart
  stay apart (splits), whatever the automatic duplicate merging says this time;
- an edited wording stays with its principle;
- carried principles keep their published order; principles that are new in this draft follow.

The votes still decide what is a candidate: a statement that no longer passes the consensus rule
is not brought back, and one that newly passes is added. Pure: documents in, document out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FACILITATOR_EXCLUDED = "excluded_by_facilitator"


def _facilitator_exclusions(prev: dict[str, Any]) -> dict[int, str]:
    """{tid: the facilitators' reason} of the statements they excluded in `prev`."""
    return {e["tid"]: e.get("detail", "") for e in prev["excluded"] if e["reason"] == FACILITATOR_EXCLUDED}


def carry_decisions(prev: dict[str, Any], doc: dict[str, Any], training_form: Callable[[str], str]) -> dict[str, Any]:
    """Apply `prev`'s review decisions to the freshly built `doc` in place; return what was carried.

    `training_form` words a principle whose first statement changed (build.training_form; passed
    in so this module and build.py do not import each other).

    The report ({"from", "excluded", "merged", "split", "reworded", "order"}) lists tids or
    principle ids, and goes into the draft's review log so the page can say it in words.
    """
    excluded_before = _facilitator_exclusions(prev)
    evidence: dict[int, dict[str, Any]] = {}  # tid -> this draft's figures
    auto_of: dict[int, dict[str, Any]] = {}  # tid -> the automatic principle it landed in
    for p in doc["principles"]:
        for s in p["statements"]:
            evidence[s["tid"]] = s
            auto_of[s["tid"]] = p
    report: dict[str, Any] = {"from": prev["version"]["number"], "excluded": [], "merged": [], "split": [],
                              "reworded": [], "order": False, "themes": {}}

    # 1. Exclusions: out of the candidates, into the excluded list with the facilitators' reason.
    for tid, reason in sorted(excluded_before.items()):
        if tid in evidence:
            s = evidence.pop(tid)
            doc["excluded"].append({"tid": tid, "text": s["text"], "reason": FACILITATOR_EXCLUDED,
                                    "detail": reason, "groups": [], "evidence": s})
            report["excluded"].append(tid)
            report["themes"][str(tid)] = auto_of[tid]["theme"]  # where `restore` puts it back
    doc["excluded"].sort(key=lambda e: e["tid"])

    # 2. Which principle each remaining statement belongs to: its published one when it had one;
    #    a new statement follows a published statement the automatic merging put it with.
    owner_of_prev = {s["tid"]: p["id"] for p in prev["principles"] for s in p["statements"]}
    key_of: dict[int, str] = {}
    for p in doc["principles"]:
        tids = [s["tid"] for s in p["statements"] if s["tid"] in evidence]
        known = [owner_of_prev[t] for t in tids if t in owner_of_prev]
        for t in tids:
            key_of[t] = owner_of_prev.get(t) or (f"prev:{known[0]}" if known else f"new:{p['id']}")
    key_of = {t: (k[5:] if k.startswith("prev:") else k) for t, k in key_of.items()}

    # Report merges and splits that differ from what the automatic step did this time.
    for p in prev["principles"]:
        present = [s["tid"] for s in p["statements"] if s["tid"] in evidence]
        if len({auto_of[t]["id"] for t in present}) > 1:
            report["merged"].append(present)
    for p in doc["principles"]:
        present = [s["tid"] for s in p["statements"] if s["tid"] in evidence]
        if len({key_of[t] for t in present}) > 1:
            report["split"].append(present)

    # 3. Rebuild the principles: published ones in their published order, then the new ones.
    prev_by_id = {p["id"]: p for p in prev["principles"]}
    members: dict[str, list[int]] = {}
    for p in prev["principles"]:
        for s in p["statements"]:
            if s["tid"] in key_of and key_of[s["tid"]] == p["id"]:
                members.setdefault(p["id"], []).append(s["tid"])
    for p in doc["principles"]:
        for s in p["statements"]:
            t = s["tid"]
            if t in key_of and t not in members.get(key_of[t], []):
                members.setdefault(key_of[t], []).append(t)
    auto_merged = {m["tid"]: m for p in doc["principles"] for m in p["merged"]}
    prev_merged = {m["tid"]: m for p in prev["principles"] for m in p["merged"]}
    carried_order = [k for k in prev_by_id if k in members]
    new_keys = [k for k in members if k not in prev_by_id]
    principles = []
    for key in carried_order + new_keys:
        tids = members[key]
        first = evidence[tids[0]]
        p: dict[str, Any] = {
            "id": f"p{tids[0]}", "position": 0, "theme": auto_of[tids[0]]["theme"], "text": first["text"],
            "training_form": training_form(first["text"]), "wording_edited": False,
            "statements": [evidence[t] for t in tids],
            "merged": [{**(prev_merged.get(t) or auto_merged.get(t)
                           or {"similarity": None, "method": "facilitator"}), "tid": t, "into": tids[0]}
                       for t in tids[1:]],
        }
        old = prev_by_id.get(key)
        if old is not None and old["wording_edited"]:
            p["training_form"], p["wording_edited"] = old["training_form"], True
            report["reworded"].append(p["id"])
        principles.append(p)
    auto_rank = {s["tid"]: i for i, p in enumerate(doc["principles"]) for s in p["statements"]}
    doc["principles"] = principles
    for i, p in enumerate(principles):
        p["position"] = i + 1
    # The published order was a decision when it differs from where this draft's rule put them.
    rank = [min(auto_rank[t] for t in members[k]) for k in carried_order]
    report["order"] = rank != sorted(rank)
    return report
