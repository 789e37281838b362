"""The Polis importer on what real exports contain (issue 11): empty votes.csv, empty comment bodies,
comments without votes or authors, unclosed quotes, NUL in summary.csv, topics and descriptions longer than
the edit form allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from assembly.models import Assembly, Moderation, Participant, Statement, Vote
from assembly.polis.read import PolisFormatError, read_export
from assembly.validation import DESCRIPTION_MAX, QUESTION_MAX, AssemblyFields

HEADER = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    out = tmp_path / "conv"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return out


def comments(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


MATRIX = "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n0,,0,2,1,1,1,-1\n"


def test_an_empty_votes_csv_falls_back_to_participants_votes(tmp_path):
    export = read_export(folder(tmp_path, {
        "comments.csv": comments("1000,d,0,0,1,0,1,One", "1000,d,1,0,0,1,1,Two"),
        "votes.csv": "", "participants-votes.csv": MATRIX}))
    assert export.votes_from == "participants-votes.csv" and len(export.votes) == 2


def test_an_empty_comment_body_is_imported_moderated_as_the_file_says(runner, db, tmp_path):
    path = folder(tmp_path, {
        "comments.csv": comments("1000,d,0,0,1,0,1,Kept", "1000,d,1,0,0,0,-1,"),
        "votes.csv": "timestamp,datetime,comment-id,voter-id,vote\n1001,d,0,0,1\n"})
    result = runner.invoke(args=["polis", "import", str(path), "--slug", "quirks"])
    assert result.exit_code == 0, result.output
    rows = db.exec(select(Statement.tid, Statement.text, Statement.moderation).order_by(Statement.tid)).all()
    assert rows == [(0, "Kept", Moderation.accepted), (1, "", Moderation.rejected)]


def test_comments_without_votes_or_authors_import(runner, db, tmp_path):
    path = folder(tmp_path, {
        "comments.csv": comments("1000,d,0,,0,0,1,Nobody wrote this", "1000,d,1,,0,0,0,Nor this"),
        "votes.csv": "timestamp,datetime,comment-id,voter-id,vote\n"})
    result = runner.invoke(args=["polis", "import", str(path), "--slug", "bare"])
    assert result.exit_code == 0, result.output
    aid = db.exec(select(Assembly.id).where(Assembly.slug == "bare")).one()
    assert len(db.exec(select(Statement).where(Statement.assembly_id == aid)).all()) == 2
    assert db.exec(select(Participant).where(Participant.assembly_id == aid)).all() == []
    assert db.exec(select(Vote).where(Vote.assembly_id == aid)).all() == []


def test_an_unclosed_quote_is_refused_naming_file_and_line(tmp_path):
    path = folder(tmp_path, {
        "comments.csv": comments("1000,d,0,0,1,0,1,Fine", '1000,d,1,0,0,0,1,"Never closed', "1000,d,2,0,0,0,1,Lost"),
        "votes.csv": "timestamp,datetime,comment-id,voter-id,vote\n"})
    with pytest.raises(PolisFormatError) as err:
        read_export(path)
    assert "comments.csv" in str(err.value) and "line 3" in str(err.value)


def test_nul_in_summary_csv_is_refused(tmp_path):
    path = folder(tmp_path, {
        "comments.csv": comments("1000,d,0,0,1,0,1,Fine"), "summary.csv": "topic,Bad\x00topic\n",
        "votes.csv": "timestamp,datetime,comment-id,voter-id,vote\n"})
    with pytest.raises(PolisFormatError, match="NUL"):
        read_export(path)


def summary_folder(tmp_path: Path, summary: str) -> Path:
    path = folder(tmp_path, {"comments.csv": comments("1000,d,0,0,1,0,1,Fine"),
                             "votes.csv": "timestamp,datetime,comment-id,voter-id,vote\n"})
    (path / "summary.csv").write_bytes(summary.encode())
    return path


@pytest.mark.parametrize(("key", "limit"), [("topic", QUESTION_MAX), ("conversation-description", DESCRIPTION_MAX)])
def test_a_summary_field_longer_than_the_edit_form_allows_is_refused(runner, db, tmp_path, key, limit):
    path = summary_folder(tmp_path, f'{key},"{"x" * (limit + 1)}"\r\n')
    result = runner.invoke(args=["polis", "import", str(path), "--slug", "long"])
    assert result.exit_code != 0
    assert "summary.csv" in result.output and f"{key} is {limit + 1:,} characters" in result.output
    assert db.exec(select(Assembly)).all() == [] and db.exec(select(Statement)).all() == []


def test_crlf_line_breaks_count_as_one_character_and_are_stored_as_lf(runner, db, tmp_path):
    # DESCRIPTION_MAX characters once each CRLF is one line break; CRLF bytes would make it 100 more.
    description = "\r\n".join(["y" * 99] * 200)
    description += "z" * (DESCRIPTION_MAX - len(description.replace("\r\n", "\n")))
    path = summary_folder(tmp_path, f'topic,"Line one\r\nline two"\r\nconversation-description,"{description}"\r\n')
    result = runner.invoke(args=["polis", "import", str(path), "--slug", "crlf"])
    assert result.exit_code == 0, result.output
    a = db.exec(select(Assembly)).one()
    assert a.question == "Line one\nline two"
    assert a.description == description.replace("\r\n", "\n") and len(a.description) == DESCRIPTION_MAX
    # and the facilitator's edit form accepts what was imported, unchanged
    AssemblyFields.model_validate({"slug": a.slug, "title": a.title, "question": a.question,
                                   "description": a.description, "language": a.language})
