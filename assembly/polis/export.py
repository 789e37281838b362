"""An assembly out to the files a Polis export holds (summary, comments, votes, matrix, groups).

Conventions are the export's: +1 agree, -1 disagree, 0 pass; timestamps in ms.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from assembly.models import Assembly, Participant, Statement, Vote
from assembly.polis.read import MODERATED_OF
from assembly.results.vote_snapshot import load_snapshot

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def polis_datetime(ms: int) -> str:
    """The `datetime` column in the style of the Polis exports (`Tue Jun 30 15:49:52 UTC 2015`), locale-free."""
    d = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:02d} {d:%H:%M:%S} UTC {d.year}"


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """`value`, with a text cell that a spreadsheet would run as a formula prefixed by `'` (numbers stay)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(rows: Iterable[Iterable[object]], *, spreadsheet_safe: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([spreadsheet_cell(v) for v in row] if spreadsheet_safe else row)
    return buf.getvalue()


def _check_groups(groups: dict[int, int]) -> list[int]:
    ids = sorted(set(groups.values()))
    if any(not isinstance(g, int) or not 0 <= g < 26 for g in ids):
        raise ValueError(f"group ids must be integers 0..25 (Polis names them a..z), got {ids}")
    return ids


def export_files(
    db: Session, assembly: Assembly, groups: dict[int, int] | None = None, *, spreadsheet_safe: bool = False
) -> dict[str, str]:
    """{filename: CSV text} of a Polis export; `groups` maps participant pid -> opinion group id.

    Exact by default, as Polis writes it, so an import gives back the same text. With
    `spreadsheet_safe`, text cells starting with = + - @ get a leading `'` so a spreadsheet
    shows them instead of running them as formulas (docs/polis-interchange.md says why two).

    Nothing beyond what Polis exports: no tokens, no xids. comments.csv adds
    Polis's is-seed/is-meta flags as trailing columns. As in Polis, with groups
    the comment-groups totals count grouped participants only; without groups
    they count everyone's latest vote and there are no group columns.
    """
    group_ids = _check_groups(groups) if groups else []
    aid = assembly.id
    statements = db.exec(select(Statement).where(Statement.assembly_id == aid).order_by(Statement.tid)).all()
    pid_of = dict(db.exec(select(Participant.id, Participant.pid).where(Participant.assembly_id == aid)).all())
    tid_of = {s.id: s.tid for s in statements}
    rows = db.exec(
        select(Vote.created_ms, Vote.participant_id, Vote.statement_id, Vote.value)
        .where(Vote.assembly_id == aid)
        .order_by(Vote.id)
    ).all()
    events = [(tid_of[s], pid_of[p], ms, v) for ms, p, s, v in rows]  # in id order: later overrides earlier
    counted = Counter((tid, v) for tid, _pid, _ms, v in events)  # Polis counts every event here
    latest: dict[int, dict[int, int]] = defaultdict(dict)  # pid -> tid -> value, from the one reduction
    for (pid, tid), v in load_snapshot(db, aid).as_dict().items():
        latest[pid][tid] = v
    authored = Counter(pid_of[s.author_id] for s in statements if s.author_id is not None)

    comments = [["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated",
                 "comment-body", "is-seed", "is-meta"]]
    for s in statements:
        author = "" if s.author_id is None else pid_of[s.author_id]
        comments.append([s.created_ms, polis_datetime(s.created_ms), s.tid, author, counted[s.tid, 1],
                         counted[s.tid, -1], MODERATED_OF[s.moderation], s.text, int(s.is_seed), int(s.is_meta)])

    votes = [["timestamp", "datetime", "comment-id", "voter-id", "vote"]]
    order = sorted(range(len(events)), key=lambda i: (events[i][0], events[i][1], i))  # Polis: by tid, pid
    votes += [[events[i][2], polis_datetime(events[i][2]), events[i][0], events[i][1], events[i][3]] for i in order]

    tids = [s.tid for s in statements]
    matrix = [["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree", *tids]]
    for pid in sorted(latest):
        mine = latest[pid]
        vals = list(mine.values())
        matrix.append([pid, "" if groups is None else groups.get(pid, ""), authored[pid], len(vals),
                       vals.count(1), vals.count(-1), *(mine.get(t, "") for t in tids)])

    by_group: dict[tuple[int, int, int], int] = Counter()  # (tid, group or -1 for all, value) -> count
    for pid, mine in latest.items():
        g = groups.get(pid) if groups else -1
        if g is None:
            continue
        for tid, v in mine.items():
            by_group[tid, g, v] += 1
    head = ["comment-id", "comment", "total-votes", "total-agrees", "total-disagrees", "total-passes"]
    for g in group_ids:
        head += [f"group-{chr(97 + g)}-{k}" for k in ("votes", "agrees", "disagrees", "passes")]
    comment_groups = [head]
    for s in statements:
        per = [(by_group[s.tid, g, 1], by_group[s.tid, g, -1], by_group[s.tid, g, 0]) for g in (group_ids or [-1])]
        a, d, p = (sum(x[k] for x in per) for k in range(3))
        row: list[object] = [s.tid, s.text, a + d + p, a, d, p]
        if group_ids:
            for ga, gd, gp in per:
                row += [ga + gd + gp, ga, gd, gp]
        comment_groups.append(row)

    summary = [
        ["topic", assembly.question or assembly.title],
        ["url", assembly.source],
        ["voters", len(latest)],
        ["voters-in-conv", sum(1 for pid in latest if groups and pid in groups)],
        ["commenters", len(authored)],
        ["comments", len(statements)],
        ["groups", len(group_ids)],
        ["conversation-description", assembly.description],
    ]
    files = {"summary.csv": summary, "comments.csv": comments, "votes.csv": votes,
             "participants-votes.csv": matrix, "comment-groups.csv": comment_groups}
    return {name: _csv(rows, spreadsheet_safe=spreadsheet_safe) for name, rows in files.items()}


def write_folder(files: dict[str, str], directory: Path | str, *, overwrite: bool = False) -> list[Path]:
    """Write `export_files` output into `directory` (created if needed); refuse to replace files unless told."""
    directory = Path(directory)
    targets = [directory / name for name in files]
    clash = [p.name for p in targets if p.exists()]
    if clash and not overwrite:
        raise FileExistsError(f"{directory} already holds {', '.join(clash)}; use another folder or overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    for path in targets:
        path.write_text(files[path.name], encoding="utf-8")
    return targets
