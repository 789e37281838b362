"""Bearer tokens: one parser and one set of prefixes (assembly/tokens.py) for every route."""

from __future__ import annotations

import pytest
from sqlmodel import select

from assembly.auth import issue_token
from assembly.models import Assembly, Facilitator
from assembly.tokens import TokenKind, kind_of, new_token, parse_authorization
from tests.conftest import FACILITATOR_EMAIL


@pytest.mark.parametrize("header, token", [
    ("Bearer aa_x", "aa_x"), ("bearer aa_x", "aa_x"), ("BEARER  pt_y ", "pt_y"), ("Bearer", ""),
    ("Basic abc", None), ("", None), (None, None), ("Bearerpt_y", None),
])
def test_the_scheme_is_case_insensitive_and_other_schemes_are_not_bearer(header, token):
    assert parse_authorization(header) == token


def test_token_kinds_come_from_one_set_of_prefixes():
    assert kind_of(new_token(TokenKind.participant)) is TokenKind.participant
    assert kind_of(new_token(TokenKind.facilitator)) is TokenKind.facilitator
    assert kind_of("zz_unknown") is None and kind_of("") is None


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_lowercase_bearer_works_on_every_kind_of_route(client, db, scheme):
    """Was: `bearer aa_...` got 401 creating an assembly where `Bearer aa_...` got 201."""
    fac = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    aa = issue_token(db, fac, "tests")
    r = client.post("/api/assemblies", json={"slug": "lower-case", "title": "T"},
                    headers={"Authorization": f"{scheme} {aa}"})
    assert r.status_code == 201, r.json
    r = client.post("/api/assemblies/lower-case/statements", json={"text": "A seed."},
                    headers={"Authorization": f"{scheme} {aa}"})
    assert r.status_code == 201, r.json
    pt = client.post("/api/assemblies/lower-case/participants").json["token"]
    fresh = client.application.test_client()  # no cookie: the token alone must identify the participant
    r = fresh.post("/api/assemblies/lower-case/votes", json={"tid": 0, "vote": 1},
                   headers={"Authorization": f"{scheme} {pt}"})
    assert r.status_code == 201, r.json
    r = fresh.get("/api/assemblies/lower-case/votes/me", headers={"Authorization": f"{scheme} {pt}"})
    assert r.status_code == 200 and [v["tid"] for v in r.json["votes"]] == [0]
    assert db.exec(select(Assembly).where(Assembly.slug == "lower-case")).one().owner_id == fac.id
