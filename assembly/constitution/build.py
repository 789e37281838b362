"""Build a draft constitution from the latest votes and opinion groups given as input.

`build_draft` is the seam for clustering: it takes `groups` ({Participant.id: group id}) and a
descriptor of the clustering run, so whichever clustering produced them, the rule is the same.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from assembly.constitution.candidates import ConsensusConfig, Counts, StatementIn, StatementStats, assess
from assembly.constitution.carry import carry_decisions
from assembly.constitution.dedupe import merge_duplicates
from assembly.constitution.similarity import THRESHOLDS, method_for
from assembly.constitution.themes import assign_themes, label_themes
from assembly.models import Assembly, Participant, Statement, utcnow
from assembly.models_constitution import DRAFT, PUBLISHED, SUPERSEDED, ConstitutionVersion
from assembly.results.vote_snapshot import blocked_author_tids, counted_vote_events, load_snapshot, votes_digest

SCHEMA_ID = "https://alignment-assembly.example/schemas/constitution/1"
GIC_FORMULA = "product over groups (ascending id) of (agree_g + 1) / (seen_g + 2); seen = agree + disagree + pass"
TRAINING_TEMPLATE = 'Choose the response that best upholds this principle, which every opinion group endorsed: "{text}"'


def canonical_json(obj: Any) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8 (documented in docs/constitution.md)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def group_label(index: int) -> str:
    """Polis's letters: A, B, C, ... (AA after Z, for completeness)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def vote_snapshot(votes: dict[tuple[int, int], int]) -> dict[str, Any]:
    """Count and digest of the latest-vote set: `results.vote_snapshot.votes_digest`, the hash clustering runs carry."""
    return {"count": len(votes), "sha256": votes_digest(votes)}


def _counts(c: Counts) -> dict[str, Any]:
    return {"agree": c.agree, "disagree": c.disagree, "pass": c.passed, "seen": c.seen,
            "agree_share": c.agree / c.seen if c.seen else None}


def evidence(st: StatementStats, labels: dict[int, str]) -> dict[str, Any]:
    """A statement's figures: overall and per group, and its GIC."""
    return {
        "tid": st.tid,
        "text": st.text,
        "votes": _counts(st.total),
        "groups": [{"group": g, "label": labels[g], **_counts(c), "smoothed": (c.agree + 1) / (c.seen + 2)}
                   for g, c in sorted(st.groups.items())],
        "gic": st.gic,
    }


def training_form(text: str) -> str:
    return TRAINING_TEMPLATE.format(text=" ".join(text.split()))


def compute_document(
    assembly: Assembly,
    statements: list[StatementIn],
    votes: dict[tuple[int, int], int],
    groups: dict[int, int],
    clustering_info: dict[str, Any],
    config: ConsensusConfig,
    *,
    n_participants: int,
    n_vote_events: int,
    similarity: str = "auto",
) -> dict[str, Any]:
    """The whole constitution document for one vote snapshot (pure: no database)."""
    group_ids = sorted(set(groups.values()))
    labels = {g: group_label(i) for i, g in enumerate(group_ids)}
    stats, th = assess(statements, votes, groups, config, labels)
    candidates = [s for s in stats if s.decision == "candidate"]
    method = method_for([s.text for s in candidates], assembly.language, similarity)
    merges = merge_duplicates([(s.tid, s.text, s.gic) for s in candidates], method)
    by_tid = {s.tid: s for s in stats}
    themes_of = assign_themes([by_tid[m.primary].text for m in merges], method)
    theme_texts: list[list[str]] = [[] for _ in range(max(themes_of, default=-1) + 1)]
    for m, t in zip(merges, themes_of, strict=True):
        theme_texts[t].extend(by_tid[tid].text for tid in m.tids)
    theme_labels = label_themes(theme_texts, [s.text for s in statements])
    # Principles read theme by theme (themes numbered by their strongest principle), strongest first.
    ordered = sorted(zip(merges, themes_of, strict=True), key=lambda mt: (mt[1], -by_tid[mt[0].primary].gic))
    principles = []
    for pos, (m, t) in enumerate(ordered):
        primary = by_tid[m.primary]
        principles.append({
            "id": f"p{m.primary}",
            "position": pos + 1,
            "theme": f"t{t + 1}",
            "text": primary.text,
            "training_form": training_form(primary.text),
            "wording_edited": False,
            "statements": [evidence(by_tid[tid], labels) for tid in m.tids],
            "merged": [{"tid": tid, "into": m.primary, "similarity": sim, "method": method} for tid, sim in m.merged],
        })
    excluded = [{
        "tid": s.tid, "text": s.text, "reason": s.decision, "detail": s.detail,
        "groups": [labels[g] for g in (s.rejecting_groups if s.decision == "divisive" else [])],
        "evidence": evidence(s, labels),
    } for s in stats if s.decision != "candidate"]
    sizes = {g: sum(1 for x in groups.values() if x == g) for g in group_ids}
    voters = {p for p, _ in votes}
    moderation = {m: sum(1 for s in statements if s.moderation == m) for m in ("accepted", "rejected", "pending")}
    return {
        "$schema": SCHEMA_ID,
        "assembly": {"slug": assembly.slug, "title": assembly.title, "question": assembly.question,
                     "language": assembly.language, "source": assembly.source},
        "version": {"number": None, "status": DRAFT, "previous": None, "built_at": utcnow().isoformat(),
                    "published_at": None},
        "process": {
            "participants": n_participants,
            "voters": len(voters),
            "vote_events": n_vote_events,
            "statements": {"total": len(statements), **moderation, "meta": sum(1 for s in statements if s.is_meta)},
            "moderation": {"strict": assembly.strict_moderation},
            "clustering": {
                "method": str(clustering_info.get("method", "unknown")),
                "parameters": clustering_info.get("parameters", {}),
                "run_id": clustering_info.get("run_id"),
                "hash": clustering_info.get("hash"),
                "groups": [{"id": g, "label": labels[g], "size": sizes[g]} for g in group_ids],
                "clustered_voters": len(voters & set(groups)),
                "unclustered_voters": len(voters - set(groups)),
            },
            "consensus": {
                "metric": "group-informed consensus", "formula": GIC_FORMULA,
                "tau": config.tau, "floor": config.floor, "min_vote_fraction": config.min_vote_fraction,
                "min_votes_floor": config.min_votes_floor, "min_group_votes_floor": config.min_group_votes_floor,
                **th.as_dict(),
            },
            "similarity": {"method": method, "threshold": THRESHOLDS[method]},
            "vote_snapshot": vote_snapshot(votes),
        },
        "themes": [{"id": f"t{i + 1}", "label": label} for i, label in enumerate(theme_labels)],
        "principles": principles,
        "excluded": excluded,
        "review": [],
        "diff_from_previous": None,
    }


def gather(db: Session, assembly: Assembly) -> tuple[list[StatementIn], dict[tuple[int, int], int], int, int]:
    """Statements, latest public votes, participant count and vote-event count from the database.

    Blocked participants do not count: their votes are left out of the snapshot and the counts,
    and their statements are treated as moderated out.
    """
    blocked = blocked_author_tids(db, assembly.id)
    rows = db.exec(select(Statement).where(Statement.assembly_id == assembly.id).order_by(Statement.tid)).all()
    statements = [StatementIn(s.tid, s.text, "rejected" if s.tid in blocked else str(
        s.moderation.value if hasattr(s.moderation, "value") else s.moderation), s.is_meta) for s in rows]
    n_participants = db.exec(select(func.count()).select_from(Participant)
                             .where(Participant.assembly_id == assembly.id, Participant.blocked_at.is_(None))).one()
    n_events = counted_vote_events(db, assembly.id)
    return statements, load_snapshot(db, assembly.id).as_dict(), n_participants, n_events


def build_draft(
    db: Session,
    assembly: Assembly,
    groups: dict[int, Any],
    clustering_info: dict[str, Any],
    config: ConsensusConfig | None = None,
    created_by: int | None = None,
    *,
    similarity: str = "auto",
    fresh: bool = False,
) -> ConstitutionVersion:
    """Build a new draft from the current votes; `groups` maps Participant.id (database id) to a group id.

    The previous published version's review decisions are carried over (carry.py) unless `fresh`.
    Earlier drafts become superseded; published versions are never touched.
    """
    config = config or ConsensusConfig()
    pid_of = dict(db.exec(select(Participant.id, Participant.pid).where(Participant.assembly_id == assembly.id)).all())
    unknown = [p for p in groups if p not in pid_of]
    if unknown:
        raise ValueError(f"{len(unknown)} grouped participant(s) are not in assembly {assembly.slug!r}, "
                         f"e.g. {unknown[0]}")
    # Group ids may be any sortable labels; number them 0..k-1 in sorted order.
    index = {g: i for i, g in enumerate(sorted(set(groups.values())))}
    public_groups = {pid_of[p]: index[g] for p, g in groups.items()}
    statements, votes, n_participants, n_events = gather(db, assembly)
    doc = compute_document(assembly, statements, votes, public_groups, clustering_info, config,
                           n_participants=n_participants, n_vote_events=n_events, similarity=similarity)
    last = latest_published(db, assembly)
    doc["version"]["previous"] = last.number if last else None
    if last is not None and not fresh:
        report = carry_decisions(json.loads(last.document), doc, training_form)
        doc["review"].append({"action": "carry", "at": utcnow().isoformat(), **report})
    for old in db.exec(select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == assembly.id,
                                                         ConstitutionVersion.status == DRAFT)):
        old.status = SUPERSEDED
        db.add(old)
    version = ConstitutionVersion(assembly_id=assembly.id, status=DRAFT, document=canonical_json(doc).decode(),
                                  vote_snapshot_hash=doc["process"]["vote_snapshot"]["sha256"], created_by=created_by)
    db.add(version)
    db.commit()
    return version


def latest_published(db: Session, assembly: Assembly) -> ConstitutionVersion | None:
    return db.exec(select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == assembly.id,
                                                     ConstitutionVersion.status == PUBLISHED)
                   .order_by(ConstitutionVersion.number.desc())).first()


def current_draft(db: Session, assembly: Assembly) -> ConstitutionVersion | None:
    return db.exec(select(ConstitutionVersion).where(ConstitutionVersion.assembly_id == assembly.id,
                                                     ConstitutionVersion.status == DRAFT)
                   .order_by(ConstitutionVersion.id.desc())).first()
