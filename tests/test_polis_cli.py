"""`flask polis import|export` and the facilitator's export.zip download."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from assembly.auth import create_facilitator
from assembly.models import Assembly, Facilitator, Participant, Statement, Vote
from assembly.polis.read import FILES
from assembly.polis.write import import_polis
from tests.conftest import FACILITATOR_EMAIL, log_in

CLASSIC = Path(__file__).parent / "fixtures" / "polis-small" / "classic"
OTHER_EMAIL, OTHER_PASSWORD = "other@example.org", "another long password"


def counts(db) -> tuple[int, ...]:
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (Assembly, Participant, Statement, Vote))


def test_import_then_export_through_the_cli(runner, db, tmp_path):
    result = runner.invoke(args=["polis", "import", str(CLASSIC), "--slug", "town", "--owner", FACILITATOR_EMAIL])
    assert result.exit_code == 0, result.output
    assert "4 statements, 4 participants and 9 vote events" in result.output
    a = db.exec(select(Assembly).where(Assembly.slug == "town")).one()
    assert a.owner_id == db.exec(select(Facilitator.id).where(Facilitator.email == FACILITATOR_EMAIL)).one()

    out = tmp_path / "out"
    result = runner.invoke(args=["polis", "export", "town", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    exported = list(csv.DictReader(io.StringIO((out / "votes.csv").read_text())))
    assert len(exported) == 9

    again = runner.invoke(args=["polis", "export", "town", str(out)])
    assert again.exit_code != 0 and "already holds" in again.output
    assert runner.invoke(args=["polis", "export", "town", str(out), "--overwrite"]).exit_code == 0


def test_slug_defaults_to_the_folder_name(runner, db, tmp_path):
    folder = tmp_path / "Town.Hall 2024"
    shutil.copytree(CLASSIC, folder)
    result = runner.invoke(args=["polis", "import", str(folder)])
    assert result.exit_code == 0, result.output
    assert db.exec(select(Assembly.slug)).all() == ["town-hall-2024"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["polis", "import", "/no/such/folder"], "does not exist"),
        (["polis", "import", str(CLASSIC), "--slug", "town"], "already exists"),
        (["polis", "import", str(CLASSIC), "--slug", "new", "--owner", "nobody@example.org"], "no facilitator"),
        (["polis", "import", str(CLASSIC), "--slug", "Bad Slug!"], "lowercase"),
        (["polis", "export", "missing", "unused-folder"], "no assembly 'missing'"),
    ],
)
def test_bad_cli_input_is_an_error_that_changes_nothing(runner, db, args, message):
    import_polis(db, CLASSIC, "town")
    before = counts(db)
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(db) == before


def test_malformed_file_is_reported_with_file_and_line(runner, db, tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(CLASSIC, folder)
    votes = folder / "votes.csv"
    votes.write_text(votes.read_text().replace("2023,3,1,1\n", "2023,3,1,4\n"))
    result = runner.invoke(args=["polis", "import", str(folder)])
    assert result.exit_code == 1
    assert "votes.csv, line 10: vote must be -1, 0 or 1, got 4" in result.output
    assert counts(db) == (0, 0, 0, 0)


def login_as(client, db, email: str) -> None:
    """Log in through the session cookie. (POST /auth/login still checks CSRF when WTF_CSRF_ENABLED is off.)"""
    facilitator_id = db.exec(select(Facilitator.id).where(Facilitator.email == email)).one()
    log_in(client, facilitator_id)


@pytest.fixture
def owned(db) -> Assembly:
    """The classic fixture imported as `town`, owned by the test facilitator."""
    owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    return import_polis(db, CLASSIC, "town", owner_id=owner.id)


def test_owner_downloads_the_export_as_a_zip(client, db, owned):
    login_as(client, db, FACILITATOR_EMAIL)
    response = client.get("/facilitate/town/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "town-polis-export.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert sorted(zf.namelist()) == sorted(f"town/{name}" for name in FILES)
        comments = list(csv.DictReader(io.StringIO(zf.read("town/comments.csv").decode())))
        everything = "".join(zf.read(n).decode() for n in zf.namelist())
    assert [c["comment-body"] for c in comments][:2] == [
        "Bike lanes on every main street.", "The library should open on Sundays, too."]
    assert "pt_" not in everything and "xid" not in everything


def test_download_needs_a_login(client, owned):
    response = client.get("/facilitate/town/export.zip")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/facilitate/town/export.zip", headers={"Accept": "application/json"}).status_code == 401


def test_download_is_for_the_owner_only(client, db, owned):
    create_facilitator(db, OTHER_EMAIL, OTHER_PASSWORD)
    login_as(client, db, OTHER_EMAIL)
    assert client.get("/facilitate/town/export.zip").status_code == 403
    assert client.get("/facilitate/nowhere/export.zip").status_code == 404
