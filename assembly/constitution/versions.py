"""Facilitator review of a draft (edit wording, merge, split, exclude, reorder) and publishing.

Every change validates first and raises AssemblyError before touching anything; every change is
logged in the draft's `review` list, so the published document shows what people changed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from assembly.constitution.build import canonical_json, latest_published, sha256_json, training_form
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, utcnow
from assembly.models_constitution import DRAFT, PUBLISHED, ConstitutionVersion

FACILITATOR_EXCLUDED = "excluded_by_facilitator"
MAX_WORDING = 2000
MAX_REASON = 500


def load(version: ConstitutionVersion) -> dict[str, Any]:
    return json.loads(version.document)


def content_hash(doc: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the document without its own hash."""
    return sha256_json({k: v for k, v in doc.items() if k != "content_hash"})


def exported(version: ConstitutionVersion) -> dict[str, Any]:
    """The document as exported: the stored one plus its content hash."""
    doc = load(version)
    doc["content_hash"] = content_hash(doc)
    return doc


def _principle(doc: dict[str, Any], principle_id: str) -> dict[str, Any]:
    for p in doc["principles"]:
        if p["id"] == principle_id:
            return p
    raise AssemblyError(f"no principle {principle_id!r} in this draft", 404)


def _renumber(doc: dict[str, Any]) -> None:
    for i, p in enumerate(doc["principles"]):
        p["position"] = i + 1


def _save(db: Session, version: ConstitutionVersion, doc: dict[str, Any], action: str, detail: dict) -> None:
    doc["review"].append({"action": action, "at": utcnow().isoformat(), **detail})
    _renumber(doc)
    version.document = canonical_json(doc).decode()
    db.add(version)
    db.commit()


def _one_line(text: str | None, limit: int, if_empty: str, what: str) -> str:
    """Collapse whitespace; refuse empty or over-long text with a message naming the field."""
    text = " ".join((text or "").split())
    if not text:
        raise AssemblyError(if_empty)
    if len(text) > limit:
        raise AssemblyError(f"{what} can be at most {limit} characters")
    return text


def _draft(version: ConstitutionVersion) -> dict[str, Any]:
    if version.status != DRAFT:
        raise AssemblyError(f"version {version.number or version.id} is {version.status}; only a draft can change", 409)
    return load(version)


def edit_wording(db: Session, version: ConstitutionVersion, principle_id: str, wording: str) -> None:
    """Change a principle's training form; the citizens' words stay verbatim beside it."""
    doc = _draft(version)
    p = _principle(doc, principle_id)
    wording = _one_line(wording, MAX_WORDING, "the wording cannot be empty", "the wording")
    old = p["training_form"]
    p["training_form"] = wording
    p["wording_edited"] = True
    _save(db, version, doc, "edit", {"principle": principle_id, "before": old, "after": wording})


def merge(db: Session, version: ConstitutionVersion, into_id: str, other_id: str) -> None:
    """Fold principle `other_id` into `into_id`; its statements become evidence of `into_id`."""
    doc = _draft(version)
    if into_id == other_id:
        raise AssemblyError("choose two different principles to merge")
    into, other = _principle(doc, into_id), _principle(doc, other_id)
    into["merged"].append({"tid": other["statements"][0]["tid"], "into": 0, "similarity": None,
                           "method": "facilitator"})
    into["merged"].extend(other["merged"])
    into["statements"].extend(other["statements"])
    for m in into["merged"]:
        m["into"] = into["statements"][0]["tid"]
    doc["principles"].remove(other)
    _save(db, version, doc, "merge", {"principle": into_id, "merged": other_id})


def split(db: Session, version: ConstitutionVersion, principle_id: str, tid: int) -> None:
    """Take statement `tid` out of a merged principle and make it a principle of its own."""
    doc = _draft(version)
    p = _principle(doc, principle_id)
    if len(p["statements"]) < 2:
        raise AssemblyError("this principle has a single statement; there is nothing to split")
    stmt = next((s for s in p["statements"] if s["tid"] == tid), None)
    if stmt is None:
        raise AssemblyError(f"statement {tid} is not part of principle {principle_id}", 404)
    if any(q["id"] == f"p{tid}" for q in doc["principles"]):
        raise AssemblyError(f"a principle p{tid} already exists", 409)
    p["statements"].remove(stmt)
    p["merged"] = [m for m in p["merged"] if m["tid"] != tid]
    if p["text"] == stmt["text"]:
        # The wording statement left: the next statement words the principle.
        p["text"] = p["statements"][0]["text"]
        p["merged"] = [m for m in p["merged"] if m["tid"] != p["statements"][0]["tid"]]
        if not p["wording_edited"]:
            p["training_form"] = training_form(p["text"])
    for m in p["merged"]:
        m["into"] = p["statements"][0]["tid"]
    p["id"] = f"p{p['statements'][0]['tid']}"
    new = {"id": f"p{tid}", "position": 0, "theme": p["theme"], "text": stmt["text"],
           "training_form": training_form(stmt["text"]), "wording_edited": False,
           "statements": [stmt], "merged": []}
    doc["principles"].insert(doc["principles"].index(p) + 1, new)
    _save(db, version, doc, "split", {"principle": principle_id, "tid": tid, "new_principle": new["id"]})


def exclude(db: Session, version: ConstitutionVersion, principle_id: str, reason: str) -> None:
    """Move a principle's statements to the excluded list with the facilitator's reason."""
    doc = _draft(version)
    p = _principle(doc, principle_id)
    reason = _one_line(reason, MAX_REASON, "say why this principle is excluded", "a reason")
    for s in p["statements"]:
        doc["excluded"].append({"tid": s["tid"], "text": s["text"], "reason": FACILITATOR_EXCLUDED,
                                "detail": reason, "groups": [], "evidence": s})
    doc["excluded"].sort(key=lambda e: e["tid"])
    doc["principles"].remove(p)
    _save(db, version, doc, "exclude", {"principle": principle_id, "reason": reason,
                                        "tids": [s["tid"] for s in p["statements"]], "theme": p["theme"]})


def _theme_before_exclusion(doc: dict[str, Any], tid: int) -> str:
    """The theme statement `tid` was in when it was excluded (this review, or the carried one)."""
    for r in reversed(doc["review"]):
        if r["action"] == "exclude" and tid in r.get("tids", []):
            return r["theme"]
        if r["action"] == "carry" and str(tid) in r.get("themes", {}):
            return r["themes"][str(tid)]
    return doc["themes"][0]["id"] if doc["themes"] else "t1"


def restore(db: Session, version: ConstitutionVersion, tid: int) -> None:
    """Bring a statement the facilitators excluded back as a principle of its own, at the end.

    Only the facilitators' own exclusions can be undone here: a statement the consensus rule or
    moderation left out is not the review's to put back.
    """
    doc = _draft(version)
    entry = next((e for e in doc["excluded"] if e["tid"] == tid), None)
    if entry is None:
        raise AssemblyError(f"statement {tid} is not among the statements left out", 404)
    if entry["reason"] != FACILITATOR_EXCLUDED:
        raise AssemblyError(f"statement {tid} was left out by the rules, not by a facilitator; "
                            "only a facilitator's exclusion can be undone", 409)
    if any(q["id"] == f"p{tid}" for q in doc["principles"]):
        raise AssemblyError(f"a principle p{tid} already exists", 409)
    doc["excluded"].remove(entry)
    stmt = entry["evidence"]
    doc["principles"].append({"id": f"p{tid}", "position": 0, "theme": _theme_before_exclusion(doc, tid),
                              "text": stmt["text"], "training_form": training_form(stmt["text"]),
                              "wording_edited": False, "statements": [stmt], "merged": []})
    _save(db, version, doc, "restore", {"principle": f"p{tid}", "tid": tid})


def move(db: Session, version: ConstitutionVersion, principle_id: str, position: int) -> None:
    """Put a principle at `position` (1-based); the others keep their order."""
    doc = _draft(version)
    p = _principle(doc, principle_id)
    n = len(doc["principles"])
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= n:
        raise AssemblyError(f"a position is a whole number from 1 to {n}")
    before = p["position"]
    doc["principles"].remove(p)
    doc["principles"].insert(position - 1, p)
    _save(db, version, doc, "move", {"principle": principle_id, "from": before, "to": position})


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """What changed since the previous published version: principles added, removed, reworded, re-sourced."""
    before = {p["id"]: p for p in (old or {"principles": []})["principles"]}
    after = {p["id"]: p for p in new["principles"]}
    return {
        "previous": old["version"]["number"] if old else None,
        "added": sorted(set(after) - set(before), key=lambda i: after[i]["position"]),
        "removed": sorted(set(before) - set(after), key=lambda i: before[i]["position"]),
        "reworded": [i for i in after if i in before and after[i]["training_form"] != before[i]["training_form"]],
        "sources_changed": [i for i in after if i in before and [s["tid"] for s in after[i]["statements"]]
                            != [s["tid"] for s in before[i]["statements"]]],
        "votes_before": old["process"]["vote_snapshot"]["count"] if old else None,
        "votes_after": new["process"]["vote_snapshot"]["count"],
    }


def publish(db: Session, version: ConstitutionVersion) -> ConstitutionVersion:
    """Number, diff and hash the draft and freeze it; the previous version stays as it was."""
    doc = _draft(version)
    if not doc["principles"]:
        raise AssemblyError("a constitution needs at least one principle before it can be published", 409)
    last = db.exec(select(func.max(ConstitutionVersion.number))
                   .where(ConstitutionVersion.assembly_id == version.assembly_id)).one()
    number = (last or 0) + 1
    prev = latest_published(db, _assembly_of(db, version))
    doc["version"].update({"number": number, "status": PUBLISHED, "previous": prev.number if prev else None,
                           "published_at": utcnow().isoformat()})
    doc["diff_from_previous"] = diff(load(prev) if prev else None, doc)
    version.document = canonical_json(doc).decode()
    version.number = number
    version.content_hash = content_hash(doc)
    version.published_at = utcnow()
    version.status = PUBLISHED
    db.add(version)
    db.commit()
    return version


def _assembly_of(db: Session, version: ConstitutionVersion):
    return db.get(Assembly, version.assembly_id)


def published(db: Session, assembly_id: int, number: int | None = None) -> ConstitutionVersion | None:
    """Version `number`, or the newest published one."""
    q = select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == assembly_id,
                                          ConstitutionVersion.status == PUBLISHED)
    q = q.where(ConstitutionVersion.number == number) if number is not None else q.order_by(
        ConstitutionVersion.number.desc())
    return db.exec(q).first()


def all_published(db: Session, assembly_id: int) -> list[ConstitutionVersion]:
    return list(db.exec(select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == assembly_id,
                                                          ConstitutionVersion.status == PUBLISHED)
                        .order_by(ConstitutionVersion.number)))
