"""Invite links carry a signed key: a guessed id gets no one in; revoking an invitee ends their link (issue 11)."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from assembly.invitations import invite_key
from assembly.models import Facilitator, Participant, Vote, XidAllow
from tests.conftest import invite_query, log_in


def _invite_only(db, assembly, *xids: str) -> None:
    assembly.xid_required = True
    db.add(assembly)
    db.add_all(XidAllow(assembly_id=assembly.id, xid=x) for x in xids)
    db.commit()


def _owner(app, db, assembly):
    """A client logged in as the facilitator, who is made the assembly's owner."""
    fac = db.exec(select(Facilitator)).one()
    assembly.owner_id = fac.id
    db.add(assembly)
    db.commit()
    client = app.test_client()
    log_in(client, fac.id)
    return client


def _counts(db) -> tuple[int, int]:
    return len(db.exec(select(Participant)).all()), len(db.exec(select(Vote)).all())


def _vote(client, tid: int = 0):
    return client.post("/a/town/vote", data={"tid": str(tid), "value": "1"})


def test_a_guessed_id_without_its_key_gets_no_one_in(app, client, db, assembly):
    _invite_only(db, assembly, "member-001")
    client.get("/a/town?xid=member-001")  # the old kind of link: the id alone
    assert _vote(client).status_code == 403
    client.get("/a/town?xid=member-001&invite=AAAAAAAAAAAAAAAAAAAAAA")  # a made-up key
    assert _vote(client).status_code == 403
    api = app.test_client()
    assert api.post("/api/assemblies/town/participants", json={"xid": "member-001"}).status_code == 403
    assert api.post("/api/assemblies/town/participants",
                    json={"xid": "member-001", "invite": "x" * 22}).status_code == 403
    assert _counts(db) == (0, 0)


def test_the_personal_link_lets_its_person_in_on_every_device(app, client, db, assembly):
    _invite_only(db, assembly, "member-001")
    link = invite_query(app, "town", "member-001")
    page = client.get(f"/a/town?{link}")
    assert page.status_code == 302 and "invite" not in page.headers["Location"]  # the key is not left in the bar
    assert _vote(client).status_code == 302
    key = parse_qs(link)["invite"][0]
    joined = app.test_client().post("/api/assemblies/town/participants", json={"xid": "member-001", "invite": key})
    assert joined.status_code == 201  # a second device: the same participant
    assert _counts(db) == (1, 1)
    assert db.exec(select(Participant)).one().xid == "member-001"


def test_a_key_is_bound_to_its_assembly_id_and_secret():
    assert invite_key("s", 1, "a", "n") != invite_key("s", 2, "a", "n")
    assert invite_key("s", 1, "a", "n") != invite_key("s", 1, "b", "n")
    assert invite_key("s", 1, "a", "n") != invite_key("t", 1, "a", "n")
    assert invite_key("s", 1, "a", "n") != invite_key("s", 1, "a", "m")
    assert len(invite_key("s", 1, "a", "n")) == 22


def test_a_browser_that_joined_before_the_allow_list_cannot_vote_without_an_invitation(app, client, db, assembly):
    assert _vote(client, 0).status_code == 302  # joined while the assembly was open to anyone
    client.get("/a/town?xid=member-001")  # even tagged with an id that is later put on the list
    assert _vote(client, 1).status_code == 302
    _invite_only(db, assembly, "member-001")
    assert _vote(client, 2).status_code == 403
    assert client.get("/a/town").status_code == 403
    assert _counts(db)[1] == 2
    client.get(f"/a/town?{invite_query(app, 'town', 'member-001')}")  # now with their personal link
    assert _vote(client, 2).status_code == 302
    assert _counts(db)[1] == 3


def test_an_api_token_from_before_the_allow_list_can_no_longer_vote(app, db, assembly):
    api = app.test_client()
    pt = api.post("/api/assemblies/town/participants", json={"xid": "member-001"}).json["token"]
    headers = {"Authorization": f"Bearer {pt}"}
    assert api.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1}, headers=headers).status_code == 201
    _invite_only(db, assembly, "member-001")
    refused = api.post("/api/assemblies/town/votes", json={"tid": 1, "vote": 1}, headers=headers)
    assert refused.status_code == 403 and "invitation" in refused.json["error"]
    assert api.post("/api/assemblies/town/statements", json={"text": "A new idea."},
                    headers=headers).status_code == 403
    assert _counts(db) == (1, 1)


def test_removing_an_invitee_or_renewing_their_link_revokes_the_old_link(app, client, db, assembly):
    _invite_only(db, assembly, "member-001", "member-002")
    owner_client = _owner(app, db, assembly)
    old = invite_query(app, "town", "member-001")
    client.get(f"/a/town?{old}")
    assert _vote(client, 0).status_code == 302
    assert owner_client.post("/facilitate/town/invites/renew", data={"xid": "member-001"}).status_code == 302
    assert _vote(client, 1).status_code == 403  # the old link no longer admits them
    other_device = app.test_client()
    other_device.get(f"/a/town?{old}")
    assert _vote(other_device, 1).status_code == 403
    client.get(f"/a/town?{invite_query(app, 'town', 'member-001')}")  # the new link works
    assert _vote(client, 1).status_code == 302

    second = invite_query(app, "town", "member-002")
    pt = app.test_client().post("/api/assemblies/town/participants",
                                json={"xid": "member-002", "invite": parse_qs(second)["invite"][0]}).json["token"]
    headers = {"Authorization": f"Bearer {pt}"}
    api = app.test_client()
    assert api.post("/api/assemblies/town/votes", json={"tid": 0, "vote": 1}, headers=headers).status_code == 201
    assert owner_client.post("/facilitate/town/invites/remove", data={"xid": "member-002"}).status_code == 302
    assert api.post("/api/assemblies/town/votes", json={"tid": 1, "vote": 1}, headers=headers).status_code == 403
    rejoin = app.test_client()
    rejoin.get(f"/a/town?{second}")
    assert _vote(rejoin).status_code == 403
    owner_client.post("/facilitate/town/invites/add", data={"xids": "member-002"})  # put back: a new key
    rejoin.get(f"/a/town?{second}")
    assert _vote(rejoin).status_code == 403
    assert owner_client.post("/facilitate/town/invites/renew", data={"xid": "nobody"}).status_code == 400


def test_invites_csv_and_page_give_the_full_working_links(app, db, assembly):
    _invite_only(db, assembly, "member-001")
    owner = _owner(app, db, assembly)
    rows = list(csv.reader(io.StringIO(owner.get("/facilitate/town/invites.csv").text)))
    assert rows[0] == ["xid", "link"] and rows[1][0] == "member-001"
    link = urlsplit(rows[1][1])
    assert parse_qs(link.query).keys() == {"xid", "invite"}
    assert link.query == invite_query(app, "town", "member-001")
    assert rows[1][1].replace("&", "&amp;") in owner.get("/facilitate/town/invites").text
    person = app.test_client()
    person.get(f"{link.path}?{link.query}")
    assert _vote(person).status_code == 302


def test_an_id_stays_an_identifier_where_no_invitation_is_required(app, client, db, assembly):
    """Embedding sites pass their own user ids (as with Polis): no key needed when the assembly is open."""
    client.get("/a/town?xid=embed-user-7")
    assert _vote(client).status_code == 302
    assert db.exec(select(Participant)).one().xid == "embed-user-7"
