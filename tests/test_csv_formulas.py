"""CSV formula injection (issue 11): the Polis export stays exact; the spreadsheet export and invites.csv
defuse cells that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import zipfile

from sqlmodel import select

from assembly.models import Facilitator, XidAllow
from assembly.voting.rules import add_statement
from tests.conftest import FACILITATOR_EMAIL, log_in

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3 people agree", "@SUM(A1:A9)"]


def _setup(client, db, assembly):
    owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    assembly.owner_id = owner.id
    db.add(assembly)
    db.commit()
    for text in FORMULAS:
        add_statement(db, assembly, text, is_seed=True)
    db.add(XidAllow(assembly_id=assembly.id, xid="=cmd|'/c calc'!A1"))
    db.commit()
    client.post("/a/town/vote", data={"tid": "0", "value": "-1"})
    log_in(client, owner.id)


def _comments(client, url: str) -> tuple[list[str], list[dict]]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        comments = list(csv.DictReader(io.StringIO(zf.read("town/comments.csv").decode())))
        votes = list(csv.DictReader(io.StringIO(zf.read("town/votes.csv").decode())))
    return [c["comment-body"] for c in comments], votes


def test_the_polis_export_is_exact_and_the_spreadsheet_export_is_defused(client, db, assembly):
    _setup(client, db, assembly)
    exact, votes = _comments(client, "/facilitate/town/export.zip")
    assert exact[3:] == FORMULAS
    safe, safe_votes = _comments(client, "/facilitate/town/export-spreadsheet.zip")
    assert safe[3:] == ["'" + f for f in FORMULAS]
    assert safe[:3] == exact[:3]  # ordinary text untouched
    assert safe_votes == votes and votes[0]["vote"] == "-1"  # numbers are not formulas
    response = client.get("/facilitate/town/export-spreadsheet.zip")
    assert "spreadsheet" in response.headers["Content-Disposition"]
    assert "export-spreadsheet.zip" in client.get("/facilitate/town/").get_data(as_text=True)


def test_invites_csv_defuses_an_id_that_looks_like_a_formula(client, db, assembly):
    _setup(client, db, assembly)
    rows = list(csv.reader(io.StringIO(client.get("/facilitate/town/invites.csv").get_data(as_text=True))))
    assert rows[1][0] == "'=cmd|'/c calc'!A1"
    assert "xid=%3Dcmd" in rows[1][1]  # the link itself carries the exact id
