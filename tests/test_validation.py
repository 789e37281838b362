"""One validated model per input: the form, the API and the Polis import accept the same assembly fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from assembly.auth import issue_token
from assembly.models import Assembly, Facilitator
from assembly.polis.read import PolisImportError
from assembly.polis.write import import_polis
from assembly.validation import (
    DESCRIPTION_MAX,
    LENGTH_DEFAULT,
    LENGTH_MAX,
    LENGTH_MIN,
    QUESTION_MAX,
    SLUG_MAX,
    SLUG_MIN,
    TITLE_MAX,
)
from tests.conftest import FACILITATOR_EMAIL

ROOT = Path(__file__).resolve().parent.parent
CLASSIC = ROOT / "tests" / "fixtures" / "polis-small" / "classic"


@pytest.fixture
def aa(db) -> dict[str, str]:
    fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    return {"Authorization": f"Bearer {issue_token(db, fac, 'tests')}"}


def _form(slug: str, **fields) -> dict[str, str]:
    return {"slug": slug, "title": "T", "question": "", "description": "", "language": "en",
            "statement_max_length": "280", **fields}


@pytest.mark.parametrize("slug", ["x--y-", "-abc", "abc-", "a--b", "ab", "Has Space", "new"])
def test_a_slug_is_refused_by_the_form_the_api_and_the_import_alike(client, auth, db, aa, slug):
    """Was: `polis import --slug x--y-` was accepted, and the edit form then refused every save."""
    auth.login()
    assert client.post("/facilitate/new", data=_form(slug)).status_code == 400
    assert client.post("/api/assemblies", json={"slug": slug, "title": "T"}, headers=aa).status_code == 422
    with pytest.raises(PolisImportError, match="slug"):
        import_polis(db, CLASSIC, slug)
    assert db.exec(select(Assembly)).all() == []


@pytest.mark.parametrize("field, limit", [("question", QUESTION_MAX), ("description", DESCRIPTION_MAX)])
def test_question_and_description_limits_are_the_same_in_form_and_api(client, auth, aa, field, limit):
    """Was: 2,000 / 20,000 characters in the form, 5,000 / 5,000 in the API."""
    auth.login()
    ok, too_long = "x" * limit, "x" * (limit + 1)
    assert client.post("/facilitate/new", data=_form("by-form", **{field: ok})).status_code == 302
    r = client.post("/api/assemblies", json={"slug": "by-api", "title": "T", field: ok}, headers=aa)
    assert r.status_code == 201, r.json
    assert client.post("/facilitate/new", data=_form("by-form-2", **{field: too_long})).status_code == 400
    r = client.post("/api/assemblies", json={"slug": "by-api-2", "title": "T", field: too_long}, headers=aa)
    assert r.status_code == 422 and field in r.json["error"]
    # What one way created, the other can save: the form edits the API's assembly unchanged.
    r = client.post("/facilitate/by-api/edit", data=_form("by-api", **{field: ok}))
    assert r.status_code == 302


@pytest.mark.parametrize("value, accepted", [
    (LENGTH_MIN, True), (LENGTH_MAX, True), (LENGTH_MIN - 1, False), (LENGTH_MAX + 1, False),
])
def test_statement_max_length_range_is_the_same_in_form_and_api(client, auth, aa, value, accepted):
    auth.login()
    r = client.post("/facilitate/new", data=_form(f"form-{value}", statement_max_length=str(value)))
    assert (r.status_code == 302) is accepted
    r = client.post("/api/assemblies", json={"slug": f"api-{value}", "title": "T", "statement_max_length": value},
                    headers=aa)
    assert (r.status_code == 201) is accepted


def test_polis_import_refuses_a_topic_the_form_could_not_save(db, tmp_path):
    folder = tmp_path / "long-topic"
    folder.mkdir()
    for f in CLASSIC.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    summary = (folder / "summary.csv").read_text()
    topic = "Q" * (QUESTION_MAX + 1)
    (folder / "summary.csv").write_text(re.sub(r"(?m)^topic,.*$", f"topic,{topic}", summary))
    with pytest.raises(PolisImportError, match=r"topic is [\d,]+ characters; the assembly.s edit form allows at most"):
        import_polis(db, folder, "long-topic")
    assert db.exec(select(Assembly)).all() == []


def test_docs_api_states_the_limits_the_code_enforces():
    """docs/api.md's create paragraph names every assembly limit with the value the code uses."""
    text = " ".join((ROOT / "docs" / "api.md").read_text().split())
    assert f"`slug` is {SLUG_MIN}-{SLUG_MAX} lowercase letters" in text
    assert f"`title` 1-{TITLE_MAX} characters" in text
    assert f"`question` (up to {QUESTION_MAX} characters)" in text
    assert f"`description` (up to {DESCRIPTION_MAX})" in text
    assert f"`statement_max_length` ({LENGTH_MIN}-{LENGTH_MAX}, default {LENGTH_DEFAULT})" in text
