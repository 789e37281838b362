"""Community-written eval items: propose, vote, moderate, and decide which pass.

Participants and facilitators propose items (a prompt, a good answer and a bad answer); the
assembly votes on them like statements (agree / disagree / pass) in their own queue. An item
passes by the constitution's own rule, `constitution.candidates.assess`, run on the item votes
with the newest clustering run's opinion groups: every group supports it, with the same vote
minimums. Passing items become the `community` eval suite, their votes travelling with them as
provenance. Every function validates before it writes and raises `AssemblyError`, so a refused
request stores nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assembly.constitution.build import group_label
from assembly.constitution.candidates import ConsensusConfig, StatementIn, assess
from assembly.constitution.groups import NoGroupsError, current_groups
from assembly.domain_errors import AssemblyError
from assembly.evals.models import CommunityItem, CommunityItemVote
from assembly.models import AGREE, DISAGREE, PASS, VOTE_VALUES, Assembly, Moderation, Participant, now_ms
from assembly.texts import text_key

PROMPT_MAX = 1000  # characters; an eval prompt is a question or a request, not a document
ANSWER_MAX = 1000
PASSES = "candidate"  # candidates.assess's decision for "every group supports it"
NO_GROUPS = "no_groups"

_SPACE = re.compile(r"[ \t\f\v]+")
_CLOSED = lazy_gettext("This assembly is closed. Votes and items are no longer accepted.")
_NO_ITEM = lazy_gettext("That item does not exist in this assembly.")
_FIELDS = {
    "prompt": (lazy_gettext("the prompt"), PROMPT_MAX),
    "good": (lazy_gettext("the good answer"), ANSWER_MAX),
    "bad": (lazy_gettext("the bad answer"), ANSWER_MAX),
}


def clean_field(name: str, value: object) -> str:
    """NFC, spaces collapsed (line breaks kept: answers may be lists), stripped; refuse empty,
    over-long, NUL and lone surrogates (the database cannot store them)."""
    what, limit = _FIELDS[name]
    if not isinstance(value, str):
        raise AssemblyError(f"{name} must be text", explain=lazy_gettext("Please fill in %(what)s.", what=what))
    if "\x00" in value:
        raise AssemblyError(f"{name} may not contain the NUL character (U+0000)",
                            explain=lazy_gettext("%(what)s contains a character that cannot be stored.", what=what))
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise AssemblyError(f"{name} must be valid Unicode (no lone surrogates)",
                            explain=lazy_gettext("%(what)s contains a character that cannot be stored.", what=what))
    text = "\n".join(_SPACE.sub(" ", line).strip() for line in unicodedata.normalize("NFC", value).splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise AssemblyError(f"{name} cannot be empty", explain=lazy_gettext("Please fill in %(what)s.", what=what))
    if len(text) > limit:
        raise AssemblyError(f"{name} can be at most {limit} characters (this one has {len(text)})",
                            explain=lazy_gettext("%(what)s has %(n)s characters; the limit is %(max)s.",
                                                 what=what, n=len(text), max=limit))
    return text


def item_key(prompt: str, good: str, bad: str) -> str:
    """One key per item: the same prompt with the same two answers (as statements compare them)."""
    return text_key("\x1f".join((prompt, good, bad)))


def visible(item: CommunityItem, assembly: Assembly) -> bool:
    """The statements' rule: strict moderation shows accepted items only; otherwise all but rejected."""
    if item.moderation == Moderation.accepted:
        return True
    return item.moderation == Moderation.pending and not assembly.strict_moderation


def may_vote(item: CommunityItem, assembly: Assembly, participant_id: int | None) -> bool:
    return visible(item, assembly) or (participant_id is not None and item.author_id == participant_id)


def check_item(db: Session, assembly: Assembly, prompt: object, good: object, bad: object, *,
               by_participant: bool = True) -> tuple[str, str, str]:
    """The cleaned (prompt, good, bad), or AssemblyError: run before joining someone new."""
    from finetune.evals.items import EvalError
    from finetune.evals.suites import EvalSource, get

    if by_participant:
        if not assembly.is_open:
            raise AssemblyError("this assembly is closed", 409, explain=_CLOSED)
        if not assembly.participants_can_write:
            raise AssemblyError("participants cannot propose items in this assembly", 403, explain=lazy_gettext(
                "Participants cannot propose items in this assembly."))
    p, g, b = clean_field("prompt", prompt), clean_field("good", good), clean_field("bad", bad)
    if text_key(g) == text_key(b):
        raise AssemblyError("the good and the bad answer must differ", explain=lazy_gettext(
            "The good and the bad answer say the same. Please make them differ."))
    dup = db.exec(select(CommunityItem).where(CommunityItem.assembly_id == assembly.id,
                                              CommunityItem.text_key == item_key(p, g, b))).first()
    if dup is not None:
        raise duplicate_error(dup)
    try:  # checked the way the suite will build it, so a stored item always evaluates
        get("community").items(EvalSource(assembly.slug, assembly.language or "en",
                                          community_items=({"id": "new", "prompt": p, "good": g, "bad": b},)))
    except EvalError as exc:
        raise AssemblyError(str(exc).replace("'new'", "this item"), 400) from exc
    return p, g, b


def duplicate_error(item: CommunityItem) -> AssemblyError:
    return AssemblyError(f"this item is already in the assembly (#{item.id})", 409, explain=lazy_gettext(
        "This item is already in the assembly (#%(id)s). Please write something new.", id=item.id))


def propose(db: Session, assembly: Assembly, prompt: object, good: object, bad: object, *,
            author: Participant | None = None, filed_by: int | None = None) -> CommunityItem:
    """Store a checked item and commit; a participant's item counts as their agree vote (as a
    statement does), and waits for review under strict moderation. A facilitator's is accepted."""
    p, g, b = check_item(db, assembly, prompt, good, bad, by_participant=author is not None)
    pending = author is not None and assembly.strict_moderation
    item = CommunityItem(assembly_id=assembly.id, prompt=p, good=g, bad=b, text_key=item_key(p, g, b),
                         moderation=(Moderation.pending if pending else Moderation.accepted).value,
                         author_id=author.id if author else None, filed_by=filed_by)
    db.add(item)
    try:
        db.flush()
        if author is not None:
            db.add(CommunityItemVote(assembly_id=assembly.id, item_id=item.id, participant_id=author.id, value=AGREE))
        db.commit()
    except IntegrityError:  # the same item, proposed at the same moment
        db.rollback()
        dup = db.exec(select(CommunityItem).where(CommunityItem.assembly_id == assembly.id,
                                                  CommunityItem.text_key == item_key(p, g, b))).first()
        if dup is not None:
            raise duplicate_error(dup) from None
        raise
    return item


def _check_value(value: object) -> int:
    if isinstance(value, bool) or value not in VOTE_VALUES:
        raise AssemblyError("a vote is 1 (agree), -1 (disagree) or 0 (pass)",
                            explain=lazy_gettext("Please choose Agree, Disagree or Pass."))
    return int(value)


def votable(db: Session, assembly: Assembly, item_id: object, value: object,
            participant_id: int | None) -> CommunityItem:
    """The item a vote may go to, or AssemblyError; `participant_id` None for someone not yet joined."""
    if not assembly.is_open:
        raise AssemblyError("this assembly is closed to new votes", 409, explain=_CLOSED)
    _check_value(value)
    item = None
    if isinstance(item_id, int) and not isinstance(item_id, bool) and 0 < item_id < 2**63:
        item = db.get(CommunityItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise AssemblyError(f"no item {item_id} in this assembly", 404, explain=_NO_ITEM)
    if not may_vote(item, assembly, participant_id):
        raise AssemblyError("this item is not open for voting", 409, explain=lazy_gettext(
            "That item is no longer open for voting."))
    return item


def vote(db: Session, assembly: Assembly, participant: Participant, item_id: int, value: int) -> CommunityItemVote:
    """Set the participant's vote on the item and commit: a second vote changes the first, never adds one."""
    if participant.assembly_id != assembly.id:
        raise AssemblyError("participant does not belong to this assembly", 403)
    item = votable(db, assembly, item_id, value, participant.id)
    for _attempt in range(3):
        row = db.exec(select(CommunityItemVote).where(CommunityItemVote.item_id == item.id,
                                                      CommunityItemVote.participant_id == participant.id)).first()
        if row is None:
            row = CommunityItemVote(assembly_id=assembly.id, item_id=item.id, participant_id=participant.id)
        row.value, row.created_ms = int(value), now_ms()
        db.add(row)
        try:
            db.commit()
            return row
        except IntegrityError:  # a concurrent first vote of the same participant: update that one
            db.rollback()
    raise AssemblyError("too many votes at once; please try again", 503)


def moderate(db: Session, assembly: Assembly, item_id: int, moderation: str) -> CommunityItem:
    """Accept or reject an item (owner); a rejected item leaves the queue and cannot pass."""
    if moderation not in {m.value for m in Moderation}:
        raise AssemblyError("moderation is pending, accepted or rejected", 400)
    item = db.get(CommunityItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise AssemblyError(f"no item {item_id} in this assembly", 404, explain=_NO_ITEM)
    item.moderation = moderation
    db.add(item)
    db.commit()
    return item


def items_of(db: Session, assembly: Assembly) -> list[CommunityItem]:
    return list(db.exec(select(CommunityItem).where(CommunityItem.assembly_id == assembly.id)
                        .order_by(CommunityItem.id)))


def votes_of(db: Session, assembly: Assembly, participant_id: int | None = None) -> dict[tuple[int, int], int]:
    """{(participant id, item id): value}: each participant's one current vote per item."""
    q = select(CommunityItemVote.participant_id, CommunityItemVote.item_id, CommunityItemVote.value).where(
        CommunityItemVote.assembly_id == assembly.id)
    if participant_id is not None:
        q = q.where(CommunityItemVote.participant_id == participant_id)
    return {(p, i): v for p, i, v in db.exec(q)}


def next_item(db: Session, assembly: Assembly,
              participant: Participant | None) -> tuple[CommunityItem | None, int, int]:
    """(the oldest item this participant may vote on and has not, voted, total) for the queue."""
    pid = participant.id if participant else None
    shown = [it for it in items_of(db, assembly)
             if may_vote(it, assembly, pid) and it.moderation != Moderation.rejected]
    mine = {i for (_p, i) in votes_of(db, assembly, pid)} if pid is not None else set()
    todo = [it for it in shown if it.id not in mine]
    return (todo[0] if todo else None), len(shown) - len(todo), len(shown)


def _counts(c) -> dict[str, int]:
    return {"agree": c.agree, "disagree": c.disagree, "pass": c.passed, "seen": c.seen}


@dataclass
class Assessment:
    """Every item with its votes and decision, and the clustering run the groups came from."""

    items: list[dict[str, Any]]
    clustering: dict[str, Any] | None  # None: no clustering run yet, so no item can pass
    thresholds: dict[str, Any] | None


def assessment(db: Session, assembly: Assembly, config: ConsensusConfig | None = None) -> Assessment:
    """Each item's counts overall and per group and its decision by the constitution's candidate rule."""
    items = items_of(db, assembly)
    votes = votes_of(db, assembly)
    try:
        groups, info = current_groups(db, assembly)
    except NoGroupsError:
        groups, info = {}, None
    index = {g: i for i, g in enumerate(sorted(set(groups.values())))}
    public = {p: index[g] for p, g in groups.items()}
    labels = {i: group_label(i) for i in index.values()}
    totals = {it.id: {"agree": 0, "disagree": 0, "pass": 0, "seen": 0} for it in items}
    for (_p, i), v in votes.items():
        totals[i][{AGREE: "agree", DISAGREE: "disagree", PASS: "pass"}[v]] += 1
        totals[i]["seen"] += 1
    stats, th = {}, None
    if public and items:
        rows = [StatementIn(it.id, it.prompt, it.moderation) for it in items]
        found, th = assess(rows, {(p, i): v for (p, i), v in votes.items()}, public, config or ConsensusConfig(),
                           labels)
        stats = {s.tid: s for s in found}
    out = []
    for it in items:
        row = {"id": it.id, "prompt": it.prompt, "good": it.good, "bad": it.bad, "moderation": it.moderation,
               "author": "participant" if it.author_id else "facilitator", "created_at": it.created_at.isoformat(),
               "votes": totals[it.id], "groups": [], "gic": None}
        st = stats.get(it.id)
        if st is None:
            row.update(decision=NO_GROUPS, detail="no clustering run yet: no opinion groups to check support in",
                       passes=False)
        else:
            row.update(decision=st.decision, detail=st.detail, passes=st.decision == PASSES, gic=st.gic,
                       groups=[{"group": labels[g], **_counts(c)} for g, c in sorted(st.groups.items())])
        out.append(row)
    clustering = None if info is None else {"run_id": info["run_id"], "method": info["method"], "hash": info["hash"],
                                            "groups": [labels[i] for i in sorted(labels)]}
    return Assessment(out, clustering, th.as_dict() if th else None)


def suite_items(db: Session, assembly: Assembly) -> list[dict[str, Any]]:
    """The passing items as plain data for the `community` suite, each with its votes as provenance."""
    a = assessment(db, assembly)
    return [{"id": f"community-{r['id']}", "prompt": r["prompt"], "good": r["good"], "bad": r["bad"],
             "votes": {"overall": r["votes"], "groups": r["groups"], "gic": r["gic"]},
             "provenance": {"item_id": r["id"], "author": r["author"], "proposed_at": r["created_at"],
                            "rule": "constitution candidate: every opinion group supports it",
                            "clustering": a.clustering, "thresholds": a.thresholds}}
            for r in a.items if r["passes"]]
