"""Invitation-only assemblies are not listed publicly (issue 11): not on the home page, not in GET /api/assemblies."""

from __future__ import annotations

from assembly.models import Assembly


def test_an_invitation_only_assembly_is_not_listed(client, db, assembly):
    db.add(Assembly(slug="members", title="Members only assembly", xid_required=True))
    db.commit()
    home = client.get("/").get_data(as_text=True)
    listed = [a["slug"] for a in client.get("/api/assemblies").json["assemblies"]]
    assert "Our town" in home and "Members only assembly" not in home
    assert listed == ["town"]
    # Still reachable by its link (an invitee opens it, then presents their invitation).
    assert client.get("/api/assemblies/members").status_code == 200
