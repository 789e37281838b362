"""`flask demo`: the vTaiwan UberX assembly and a demo facilitator, loaded once."""

from __future__ import annotations

import glob
import stat
import tomllib
from collections import Counter
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select
from werkzeug.security import check_password_hash

from assembly.demo import DEMO_DIR, DEMO_EMAIL, PASSWORD_FILE
from assembly.models import Assembly, Facilitator, Participant, Statement, Vote
from assembly.polis.read import read_export
from tests.conftest import ROOT, need_shared


def counts(db) -> tuple[int, ...]:
    tables = (Facilitator, Assembly, Participant, Statement, Vote)
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in tables)


def test_demo_loads_once_and_its_facilitator_password_works(app, runner, db, tmp_path):
    app.instance_path = str(tmp_path / "instance")  # the password file must not land in the checkout's instance/
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    a = db.exec(select(Assembly).where(Assembly.slug == "vtaiwan-uberx")).one()
    assert a.language == "zh-Hant-TW" and a.title.startswith("UberX")
    assert a.source == "https://pol.is/3phdex2kjf"
    demo = db.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL)).one()
    assert a.owner_id == demo.id
    assert db.exec(select(func.count()).select_from(Statement).where(Statement.assembly_id == a.id)).one() == 197
    assert db.exec(select(func.count()).select_from(Participant).where(Participant.assembly_id == a.id)).one() == 1921
    assert db.exec(select(func.count()).select_from(Vote).where(Vote.assembly_id == a.id)).one() == 49997

    secret = Path(app.instance_path) / PASSWORD_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    email, password = secret.read_text().split()
    assert email == DEMO_EMAIL and password in first.output
    assert check_password_hash(demo.password_hash, password)

    before, kept = counts(db), secret.read_text()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "already exists" in second.output and password not in second.output
    assert counts(db) == before
    assert secret.read_text() == kept


def test_compact_demo_data_keeps_every_vote_event():
    original = read_export(need_shared() / "vtaiwan.uberx")
    compact = read_export(DEMO_DIR)
    assert Counter(compact.votes) == Counter(original.votes)
    assert [(c.tid, c.text, c.moderation) for c in compact.comments] == [
        (c.tid, c.text, c.moderation) for c in original.comments]


def test_demo_data_ships_with_the_package():
    """Every file under demo_data matches a [tool.setuptools.package-data] pattern, so a wheel carries it."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["assembly"]
    package = ROOT / "assembly"
    shipped = {p for pattern in patterns for p in glob.glob(pattern, root_dir=package, recursive=True)}
    files = {p.relative_to(package).as_posix() for p in DEMO_DIR.rglob("*") if p.is_file()}
    assert {Path(f).name for f in files} >= {"comments.csv", "votes.csv.gz", "summary.csv", "ATTRIBUTION.md"}
    assert files <= shipped, files - shipped
    attribution = (DEMO_DIR / "ATTRIBUTION.md").read_text()
    assert "CC BY 4.0" in attribution and "The Computational Democracy Project" in attribution
