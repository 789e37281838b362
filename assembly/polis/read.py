"""Reading Polis export folders: parse and validate, with no Flask and no database session.

Importing is two steps so that bad input changes nothing: `read_export` parses and
validates every file into a `PolisExport` (raising `PolisFormatError` that names
the file, line and problem), then `write.write_export` inserts it in one transaction.
`export.export_files` writes the files Polis writes.
Conventions are the export's: +1 agree, -1 disagree, 0 pass; timestamps in ms.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from assembly.models import VOTE_VALUES, Moderation
from assembly.validation import DESCRIPTION_MAX, QUESTION_MAX

FILES = ("summary.csv", "comments.csv", "votes.csv", "participants-votes.csv", "comment-groups.csv")
MODERATION_OF = {-1: Moderation.rejected, 0: Moderation.pending, 1: Moderation.accepted}
MODERATED_OF = {m: v for v, m in MODERATION_OF.items()}
COMMENT_COLUMNS = ("timestamp", "comment-id", "author-id", "moderated", "comment-body")
VOTE_COLUMNS = ("timestamp", "comment-id", "voter-id", "vote")
# participants-votes.csv columns that are not comment ids (older exports add `xid`).
MATRIX_META = {"participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"}
POLIS_ID_MAX = 2**31 - 1  # Polis stores its ids and votes as 32-bit integers
MAX_MS = 2**53
SECONDS_BELOW = 10**11  # newer Polis writes seconds; 1e11 ms would be 1973, before Polis existed
_TRUE, _FALSE = {"1", "true", "t", "yes"}, {"", "0", "false", "f", "no"}


class PolisImportError(ValueError):
    """An import that cannot be done; nothing was written."""


class PolisFormatError(PolisImportError):
    """A malformed export file; the message names the file, the line and the problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file, self.line, self.problem = file, line, problem
        super().__init__(f"{file}, line {line}: {problem}" if line else f"{file}: {problem}")


@dataclass
class PolisComment:
    tid: int
    author_pid: int | None
    created_ms: int
    moderation: Moderation
    text: str
    is_meta: bool = False
    is_seed: bool = False


@dataclass
class PolisExport:
    """A validated export: votes are (created_ms, tid, pid, value) events in chronological order."""

    summary: dict[str, str]
    comments: list[PolisComment]
    votes: list[tuple[int, int, int, int]]
    participants: set[int] = field(default_factory=set)
    votes_from: str = "votes.csv"


# ---------------------------------------------------------------- reading


def _find(folder: Path, name: str) -> Path | None:
    """`name` or its gzip'd form `name.gz` (the compact demo data)."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _first_non_utf8_line(path: Path) -> int | None:
    """Text is decoded in blocks, so the decoder cannot say which line was bad; find it in the raw bytes."""
    with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _norm(header: str) -> str:
    return header.strip().lower().replace("_", "-")


def _read_table(path: Path, required: Iterable[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (normalised names) and (line where the record starts, fields) for every non-blank record."""
    label = path.name
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        with _open(path) as fh:
            # strict: an unclosed quote is an error at its record's line, not the rest of the file as one field.
            reader = csv.reader(fh, strict=True)
            for row in reader:
                if header is None:
                    header = [_norm(h) for h in row]
                elif row:
                    if len(row) != len(header):
                        raise PolisFormatError(label, start, f"expected {len(header)} fields, found {len(row)}")
                    if any("\x00" in field for field in row):  # PostgreSQL text cannot hold it; no one types it
                        raise PolisFormatError(label, start, "contains a NUL character (U+0000)")
                    rows.append((start, row))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise PolisFormatError(label, _first_non_utf8_line(path), "not UTF-8 text") from exc
    except (csv.Error, OSError, EOFError) as exc:
        raise PolisFormatError(label, start, f"unreadable ({exc})") from exc
    if not header:
        raise PolisFormatError(label, 1, "empty file, expected a header row")
    missing = [c for c in required if c not in header]
    if missing:
        raise PolisFormatError(label, 1, f"missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
    return header, rows


def _int(file: str, line: int, column: str, text: str, low: int = 0, high: int = POLIS_ID_MAX) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise PolisFormatError(file, line, f"{column} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise PolisFormatError(file, line, f"{column} must be between {low} and {high}, got {value}")
    return value


def _ms(file: str, line: int, text: str) -> int:
    value = _int(file, line, "timestamp", text, 0, MAX_MS)
    return value * 1000 if value < SECONDS_BELOW else value


def _vote(file: str, line: int, column: str, text: str) -> int:
    value = _int(file, line, column, text, -POLIS_ID_MAX, POLIS_ID_MAX)
    if value not in VOTE_VALUES:
        raise PolisFormatError(file, line, f"{column} must be -1, 0 or 1, got {value}")
    return value


def _bool(file: str, line: int, column: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE or low in _FALSE:
        return low in _TRUE
    raise PolisFormatError(file, line, f"{column} must be true or false, got {text!r}")


def read_comments(path: Path) -> list[PolisComment]:
    """Both header variants: columns are found by name, so order and extra is-seed/is-meta columns do not matter."""
    header, rows = _read_table(path, COMMENT_COLUMNS)
    col = {name: i for i, name in enumerate(header)}
    out: list[PolisComment] = []
    seen: set[int] = set()
    for line, row in rows:
        f = path.name
        tid = _int(f, line, "comment-id", row[col["comment-id"]])
        if tid in seen:
            raise PolisFormatError(f, line, f"comment-id {tid} appears twice")
        seen.add(tid)
        author = row[col["author-id"]].strip()
        # Real exports hold moderated-out comments with an empty body: kept, moderated as the file says.
        text = row[col["comment-body"]]
        moderated = _int(f, line, "moderated", row[col["moderated"]], -1, 1)
        out.append(PolisComment(
            tid=tid,
            author_pid=_int(f, line, "author-id", author) if author else None,
            created_ms=_ms(f, line, row[col["timestamp"]]),
            moderation=MODERATION_OF[moderated],
            text=text,
            is_meta="is-meta" in col and _bool(f, line, "is-meta", row[col["is-meta"]]),
            is_seed="is-seed" in col and _bool(f, line, "is-seed", row[col["is-seed"]]),
        ))
    return out


def read_votes(path: Path, tids: set[int]) -> list[tuple[int, int, int, int]]:
    """Every event, re-votes included, sorted by time (ties keep file order, so the last one counts)."""
    header, rows = _read_table(path, VOTE_COLUMNS)
    ts, tc, vc, val = (header.index(c) for c in VOTE_COLUMNS)
    f = path.name
    events = []
    for line, row in rows:
        tid = _int(f, line, "comment-id", row[tc])
        if tid not in tids:
            raise PolisFormatError(f, line, f"comment-id {tid} is not in comments.csv")
        pid = _int(f, line, "voter-id", row[vc])
        events.append((_ms(f, line, row[ts]), tid, pid, _vote(f, line, "vote", row[val])))
    events.sort(key=lambda e: e[0])
    return events


def read_matrix(path: Path, created: dict[int, int]) -> tuple[list[tuple[int, int, int, int]], set[int]]:
    """Latest votes from participants-votes.csv, one event per non-blank cell, timed at the comment's creation."""
    header, rows = _read_table(path, ("participant",))
    f = path.name
    columns: list[tuple[int, int]] = []  # (column index, tid)
    for i, name in enumerate(header):
        if name in MATRIX_META:
            continue
        tid = _int(f, 1, "column header", name)
        if tid not in created:
            raise PolisFormatError(f, 1, f"column {tid} is not a comment-id in comments.csv")
        columns.append((i, tid))
    pcol = header.index("participant")
    events, pids = [], set()
    for line, row in rows:
        pid = _int(f, line, "participant", row[pcol])
        if pid in pids:
            raise PolisFormatError(f, line, f"participant {pid} appears twice")
        pids.add(pid)
        for i, tid in columns:
            if row[i].strip():
                events.append((created[tid], tid, pid, _vote(f, line, f"vote on comment {tid}", row[i])))
    events.sort(key=lambda e: (e[0], e[2]))
    return events, pids


# The edit form's caps (assembly.validation) on the summary fields an assembly is made from:
# the topic becomes the question, the description the description.
SUMMARY_LIMITS = {"topic": QUESTION_MAX, "conversation-description": DESCRIPTION_MAX}


def read_summary(path: Path) -> dict[str, str]:
    """key,value rows; values may span lines (quoted) and, in old exports, hold unquoted commas."""
    try:
        with _open(path) as fh:
            rows = [row for row in csv.reader(fh) if row and row[0].strip()]
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
        raise PolisFormatError(path.name, None, f"unreadable ({exc})") from exc
    if any("\x00" in field for row in rows for field in row):
        raise PolisFormatError(path.name, None, "contains a NUL character (U+0000)")
    # CRLF (Windows-made exports) as LF: a browser's textarea and the edit form's limits count one per line break.
    summary = {_norm(row[0]): ",".join(row[1:]).replace("\r\n", "\n") for row in rows}
    for key, limit in SUMMARY_LIMITS.items():
        length = len(summary.get(key, "").strip())
        if length > limit:
            raise PolisFormatError(path.name, None, f"{key} is {length:,} characters; the assembly's edit form "
                                                    f"allows at most {limit:,}, so it could never be saved")
    return summary


def read_export(folder: Path | str) -> PolisExport:
    """Parse and validate a Polis export folder; nothing touches the database."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PolisImportError(f"{folder} is not a folder")
    comments_path = _find(folder, "comments.csv")
    if comments_path is None:
        raise PolisImportError(f"{folder} has no comments.csv; is it a Polis export folder?")
    comments = read_comments(comments_path)
    summary_path = _find(folder, "summary.csv")
    summary = read_summary(summary_path) if summary_path else {}
    votes_path = _find(folder, "votes.csv")
    if votes_path is not None and votes_path.stat().st_size == 0:
        votes_path = None  # published as 0 bytes for some conversations: the same as absent
    if votes_path is not None:
        votes = read_votes(votes_path, {c.tid for c in comments})
        participants, votes_from = {e[2] for e in votes}, votes_path.name
    else:
        matrix_path = _find(folder, "participants-votes.csv")
        if matrix_path is None:
            raise PolisImportError(f"{folder} has neither votes.csv nor participants-votes.csv")
        votes, participants = read_matrix(matrix_path, {c.tid: c.created_ms for c in comments})
        votes_from = matrix_path.name
    participants |= {c.author_pid for c in comments if c.author_pid is not None}
    return PolisExport(summary, comments, votes, participants, votes_from)
