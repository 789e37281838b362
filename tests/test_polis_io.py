"""Polis export folders in and out: both header variants, re-votes, the matrix fallback, bad files, real round trips."""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from assembly.models import Assembly, Moderation, Participant, Statement, Vote
from assembly.polis.export import export_files
from assembly.polis.read import PolisFormatError, PolisImportError, read_export
from assembly.polis.write import import_polis, write_export
from assembly.voting.latest_votes import latest_votes
from assembly.voting.rules import add_statement, create_participant, record_vote
from tests.conftest import CONVERSATIONS, need_shared

SMALL = Path(__file__).parent / "fixtures" / "polis-small"
CLASSIC, VARIANT = SMALL / "classic", SMALL / "variant"

# classic/votes.csv, latest per (pid, tid): voter 1's re-vote on comment 0 comes first in the file but is later.
CLASSIC_LATEST = {0: {0: 1, 1: -1, 2: -1}, 1: {0: -1, 3: 1}, 2: {0: 0, 1: 1}}


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def matrix(text: str) -> dict[int, dict[int, int]]:
    """pid -> {tid: vote} of the non-blank cells of a participants-votes.csv, whatever its meta columns."""
    out = {}
    for row in parse(text):
        out[int(row["participant"])] = {int(k): int(v) for k, v in row.items() if k.isdigit() and v != ""}
    return out


def db_latest(db, assembly: Assembly) -> dict[int, dict[int, int]]:
    pid = dict(db.exec(select(Participant.id, Participant.pid).where(Participant.assembly_id == assembly.id)).all())
    tid = dict(db.exec(select(Statement.id, Statement.tid).where(Statement.assembly_id == assembly.id)).all())
    out: dict[int, dict[int, int]] = {}
    for (p, s), v in latest_votes(db, assembly.id).items():
        out.setdefault(pid[p], {})[tid[s]] = v
    return out


def counts(db) -> tuple[int, ...]:
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (Assembly, Participant, Statement, Vote))


def test_classic_export_imports_statements_authors_and_every_event(db):
    a = import_polis(db, CLASSIC, "town")
    topic = "Our town: what next?"
    assert (a.title, a.question, a.source) == (topic, topic, "https://pol.is/2example")
    assert a.description == "How should the town change?\nSay what you think, one idea per statement."
    statements = {s.tid: s for s in db.exec(select(Statement).where(Statement.assembly_id == a.id))}
    assert statements[2].text == 'Spam with "quotes"'
    assert statements[3].text == "A statement\non two lines."
    assert [statements[t].moderation for t in range(4)] == [
        Moderation.accepted, Moderation.accepted, Moderation.rejected, Moderation.pending]
    assert statements[3].created_ms == 1700000120000
    pids = {p.id: p.pid for p in db.exec(select(Participant).where(Participant.assembly_id == a.id))}
    assert sorted(pids.values()) == [0, 1, 2, 3]  # 3 only wrote a comment
    assert {t: pids[s.author_id] for t, s in statements.items()} == {0: 0, 1: 1, 2: 3, 3: 1}
    votes = db.exec(select(Vote).where(Vote.assembly_id == a.id)).all()
    assert len(votes) == 9
    assert sorted(v.created_ms for v in votes) == [v.created_ms for v in sorted(votes, key=lambda v: v.id)]
    assert db_latest(db, a) == CLASSIC_LATEST


def test_variant_header_seconds_blank_author_and_matrix_fallback(db):
    export = read_export(VARIANT)
    assert export.votes_from == "participants-votes.csv"
    a = import_polis(db, VARIANT, language="fr")
    assert (a.slug, a.title, a.question, a.language) == ("variant", "variant", "", "fr")
    statements = {s.tid: s for s in db.exec(select(Statement).where(Statement.assembly_id == a.id))}
    assert statements[0].author_id is None and statements[0].is_seed and not statements[0].is_meta
    assert statements[1].is_meta and not statements[1].is_seed
    assert statements[2].moderation == Moderation.pending and statements[2].language == "fr"
    assert statements[1].created_ms == 1700000100000  # seconds read as seconds
    pids = sorted(db.exec(select(Participant.pid).where(Participant.assembly_id == a.id)).all())
    assert pids == [5, 6, 7]
    xids = db.exec(select(Participant.xid).where(Participant.assembly_id == a.id)).all()
    assert xids == [None, None, None]  # external ids are not imported (nor exported)
    assert db_latest(db, a) == {5: {0: 1, 1: -1}, 7: {0: 0}}
    times = {v.statement_id: v.created_ms for v in db.exec(select(Vote).where(Vote.assembly_id == a.id))}
    assert all(times[s.id] == s.created_ms for s in statements.values() if s.id in times)


def test_missing_votes_csv_rebuilds_latest_votes_from_the_matrix(db, tmp_path):
    folder = tmp_path / "novotes"
    shutil.copytree(CLASSIC, folder)
    (folder / "votes.csv").unlink()
    a = import_polis(db, folder)
    assert db_latest(db, a) == CLASSIC_LATEST
    assert db.exec(select(func.count()).select_from(Vote).where(Vote.assembly_id == a.id)).one() == 7


def test_export_writes_what_polis_writes(db):
    a = import_polis(db, CLASSIC, "town")
    files = export_files(db, a)
    assert sorted(files) == sorted(
        ["summary.csv", "comments.csv", "votes.csv", "participants-votes.csv", "comment-groups.csv"])
    original = {r["comment-id"]: r for r in parse((CLASSIC / "comments.csv").read_text())}
    for row in parse(files["comments.csv"]):
        for col in ("timestamp", "author-id", "agrees", "disagrees", "moderated", "comment-body"):
            assert row[col] == original[row["comment-id"]][col], col
    key = ("timestamp", "comment-id", "voter-id", "vote")
    events = Counter(tuple(r[k] for k in key) for r in parse(files["votes.csv"]))
    assert events == Counter(tuple(r[k] for k in key) for r in parse((CLASSIC / "votes.csv").read_text()))
    assert matrix(files["participants-votes.csv"]) == CLASSIC_LATEST
    pv = {r["participant"]: r for r in parse(files["participants-votes.csv"])}
    stats = ("group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
    assert [pv["1"][k] for k in stats] == ["", "2", "2", "1", "1"]
    summary = dict(csv.reader(io.StringIO(files["summary.csv"])))
    assert summary["topic"] == "Our town: what next?"
    assert summary["conversation-description"] == a.description
    assert (summary["voters"], summary["commenters"], summary["comments"], summary["groups"]) == ("3", "3", "4", "0")
    groups = parse(files["comment-groups.csv"])
    totals = ["total-votes", "total-agrees", "total-disagrees", "total-passes"]
    assert list(groups[0]) == ["comment-id", "comment", *totals]
    assert groups[0]["comment-id"] == "0" and groups[0]["total-votes"] == "3"  # latest votes only: 1, -1, 0
    assert (groups[0]["total-agrees"], groups[0]["total-disagrees"], groups[0]["total-passes"]) == ("1", "1", "1")
    assert "pt_" not in "".join(files.values()) and "xid" not in "".join(files.values())


def test_export_with_opinion_groups_has_per_group_columns(db):
    a = import_polis(db, CLASSIC, "town")
    files = export_files(db, a, groups={0: 0, 1: 1})
    pv = {r["participant"]: r["group-id"] for r in parse(files["participants-votes.csv"])}
    assert pv == {"0": "0", "1": "1", "2": ""}
    rows = {r["comment-id"]: r for r in parse(files["comment-groups.csv"])}
    first = rows["0"]
    assert list(first)[6:] == [f"group-{g}-{k}" for g in "ab" for k in ("votes", "agrees", "disagrees", "passes")]
    assert [first[f"group-a-{k}"] for k in ("votes", "agrees", "disagrees", "passes")] == ["1", "1", "0", "0"]
    assert [first[f"group-b-{k}"] for k in ("votes", "agrees", "disagrees", "passes")] == ["1", "0", "1", "0"]
    assert first["total-votes"] == "2"  # as in Polis: grouped participants only (2 passed, but is in no group)
    summary = dict(csv.reader(io.StringIO(files["summary.csv"])))
    assert (summary["groups"], summary["voters-in-conv"]) == ("2", "2")
    with pytest.raises(ValueError, match="group ids"):
        export_files(db, a, groups={0: 26})


def test_native_assembly_round_trips_through_export_and_import(db, assembly, tmp_path):
    voter = create_participant(db, assembly)
    author = create_participant(db, assembly)
    add_statement(db, assembly, "Fix the potholes first.", author=author)
    record_vote(db, assembly, voter, 0, 1)
    record_vote(db, assembly, voter, 0, -1)
    record_vote(db, assembly, voter, 3, 0)
    folder = tmp_path / "town-export"
    folder.mkdir()
    for name, text in export_files(db, assembly).items():
        (folder / name).write_text(text, encoding="utf-8")
    copy = import_polis(db, folder, "town-copy")
    assert copy.question == assembly.question and copy.description == assembly.description
    assert db_latest(db, copy) == db_latest(db, assembly)
    def statements(a: Assembly) -> dict[int, tuple]:
        rows = db.exec(select(Statement).where(Statement.assembly_id == a.id))
        return {s.tid: (s.text, s.is_seed, s.moderation, s.created_ms) for s in rows}

    assert statements(copy) == statements(assembly)


def _edit(name: str, old: str, new: str):
    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))

    return apply


def _reencode(name: str, encoding: str, old: str, new: str):
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_text().replace(old, new, 1).encode(encoding))

    return apply


def _drop_votes_and(edit):
    def apply(folder: Path) -> None:
        (folder / "votes.csv").unlink()
        edit(folder)

    return apply


MALFORMED = {
    "missing column": (_edit("comments.csv", ",comment-body\n", ",body\n"), "comments.csv, line 1", "comment-body"),
    "non-integer comment id": (_edit("comments.csv", "023,1,1,1,", "023,x,1,1,"), "comments.csv, line 3", "'x'"),
    "duplicate comment id": (_edit("comments.csv", "023,2,3,", "023,1,3,"), "comments.csv, line 4", "twice"),
    "wrong field count": (_edit("comments.csv", ",0,0,2,1,1,", ",0,0,2,1,"), "comments.csv, line 2", "fields"),
    "bad moderation": (_edit("comments.csv", ",1,1,Bike", ",1,2,Bike"), "comments.csv, line 2", "moderated"),
    # PostgreSQL text cannot hold U+0000: refused on every backend, so an import behaves the same on both.
    "NUL character": (_edit("comments.csv", "Bike lanes", "Bike\x00lanes"), "comments.csv, line 2", "NUL"),
    "error in a multi-line record": (
        _edit("comments.csv", "2023,3,1,1,0,0,", "2023,3,1,1,0,9,"), "comments.csv, line 5", "moderated"),
    "not UTF-8": (
        _reencode("votes.csv", "latin-1", "1700000700000,Tue", "1700000700000,Tü"), "votes.csv, line 10", "UTF-8"),
    "vote out of range": (_edit("votes.csv", "2023,1,2,1\n", "2023,1,2,2\n"), "votes.csv, line 8", "-1, 0 or 1"),
    "vote not a number": (_edit("votes.csv", "2023,3,1,1\n", "2023,3,1,yes\n"), "votes.csv, line 10", "'yes'"),
    "non-integer voter id": (_edit("votes.csv", "2023,0,2,0\n", "2023,0,two,0\n"), "votes.csv, line 5", "voter-id"),
    "unknown comment": (_edit("votes.csv", "2023,3,1,1\n", "2023,99,1,1\n"), "votes.csv, line 10", "comment-id 99"),
    "votes missing column": (_edit("votes.csv", "voter-id,vote", "voter,vote"), "votes.csv, line 1", "voter-id"),
    "matrix cell out of range": (
        _drop_votes_and(_edit("participants-votes.csv", ",1,0,0,1,,\n", ",1,0,5,1,,\n")),
        "participants-votes.csv, line 4", "-1, 0 or 1"),
    "matrix unknown comment": (
        _drop_votes_and(_edit("participants-votes.csv", ",2,3\n", ",2,9\n")),
        "participants-votes.csv, line 1", "9"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_export_names_file_line_and_problem_and_writes_nothing(db, tmp_path, case):
    edit, where, problem = MALFORMED[case]
    folder = tmp_path / "bad"
    shutil.copytree(CLASSIC, folder)
    edit(folder)
    before = counts(db)
    with pytest.raises(PolisFormatError) as info:
        import_polis(db, folder, "bad")
    assert str(info.value).startswith(where + ":"), str(info.value)
    assert problem in info.value.problem
    assert counts(db) == before


def test_existing_slug_and_missing_files_are_refused(db, tmp_path):
    import_polis(db, CLASSIC, "town")
    before = counts(db)
    with pytest.raises(PolisImportError, match="already exists"):
        import_polis(db, VARIANT, "town")
    with pytest.raises(PolisImportError, match=r"no comments\.csv"):
        import_polis(db, tmp_path, "empty")
    (tmp_path / "comments.csv").write_text((CLASSIC / "comments.csv").read_text())
    with pytest.raises(PolisImportError, match=r"neither votes\.csv nor participants-votes\.csv"):
        import_polis(db, tmp_path, "empty")
    with pytest.raises(PolisImportError, match="slug"):
        import_polis(db, CLASSIC, "Not A Slug")
    assert counts(db) == before


@pytest.mark.shared
@pytest.mark.parametrize("name", CONVERSATIONS or ["(no shared data)"])
def test_real_export_round_trips(db, name):
    folder = need_shared() / name
    a = import_polis(db, folder)
    files = export_files(db, a)

    before = {r["comment-id"]: r for r in parse((folder / "comments.csv").read_text(encoding="utf-8"))}
    after = {r["comment-id"]: r for r in parse(files["comments.csv"])}
    assert after.keys() == before.keys()
    for tid, row in before.items():
        for col in ("comment-body", "author-id", "moderated", "timestamp", "agrees", "disagrees"):
            assert after[tid][col] == row[col], (tid, col)

    key = ("timestamp", "comment-id", "voter-id", "vote")
    original_votes = parse((folder / "votes.csv").read_text())
    exported_votes = parse(files["votes.csv"])
    assert len(exported_votes) == len(original_votes)
    assert Counter(tuple(r[k] for k in key) for r in exported_votes) == Counter(
        tuple(r[k] for k in key) for r in original_votes)

    original_pv = (folder / "participants-votes.csv").read_text()
    assert matrix(files["participants-votes.csv"]) == matrix(original_pv)
    stats = ("n-comments", "n-votes", "n-agree", "n-disagree")
    ours = {r["participant"]: [r[k] for k in stats] for r in parse(files["participants-votes.csv"])}
    assert ours == {r["participant"]: [r[k] for k in stats] for r in parse(original_pv)}

    summary = dict(csv.reader(io.StringIO(files["summary.csv"])))
    original = {row[0]: ",".join(row[1:]) for row in csv.reader(io.StringIO((folder / "summary.csv").read_text()))}
    assert summary["topic"] == original["topic"] and summary["url"] == original["url"]
    assert summary["conversation-description"] == original["conversation-description"].strip()


def test_a_failure_while_writing_rolls_back_everything(db):
    before = counts(db)

    def interrupted(_n: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_export(db, read_export(CLASSIC), "town", progress=interrupted)  # after the votes were inserted
    assert counts(db) == before
