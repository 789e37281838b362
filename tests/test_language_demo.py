"""The Taigi demo assembly: loaded by `flask demo` beside vTaiwan, marked synthetic, and clustered into
its planted opinion groups."""

from __future__ import annotations

import gzip
import subprocess
import sys

from sqlalchemy import func
from sqlmodel import select

from assembly.demo import TAIGI_DIR, TAIGI_SLUG
from assembly.models import Assembly, Participant, Statement, Vote
from assembly.results.runs import latest_run, result_of
from finetune.evals.langid import detect
from tests.conftest import ROOT


def planted_group(pid: int) -> str:
    return "A" if pid < 32 else "B" if pid < 65 else "C"  # scripts/build_taigi_demo.py GROUPS, in pid order


def test_flask_demo_loads_and_clusters_the_taigi_assembly(app, runner, db, tmp_path):
    app.instance_path = str(tmp_path / "instance")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC votes" in result.output
    a = db.exec(select(Assembly).where(Assembly.slug == TAIGI_SLUG)).one()
    assert a.language == "nan-Hant-TW" and "水仙宮市場" in a.title
    statements = db.exec(select(Statement).where(Statement.assembly_id == a.id)).all()
    assert 30 <= len(statements) <= 60
    assert db.exec(select(func.count()).select_from(Participant).where(Participant.assembly_id == a.id)).one() == 90
    votes = db.exec(select(func.count()).select_from(Vote).where(Vote.assembly_id == a.id)).one()
    events = gzip.decompress((TAIGI_DIR / "votes.csv.gz").read_bytes()).decode().count("\n") - 1
    assert votes == events
    # Han-script Taigi with some Tâi-lô, as the detector reads it.
    labels = [detect(s.text)[0] for s in statements]
    assert labels.count("nan-Latn") >= 2 and labels.count("nan-Hant") >= 0.9 * (len(labels) - labels.count("nan-Latn"))

    run = latest_run(db, a.id)
    assert run is not None
    groups = {int(p): g for p, g in result_of(run)["participants"].items() if g is not None}
    pid_of = {p.id: p.pid for p in db.exec(select(Participant).where(Participant.assembly_id == a.id))}
    assert len(set(groups.values())) >= 2
    # Each found group is made mostly of one planted group: the clustering recovers what was planted.
    by_found: dict[int, list[str]] = {}
    for key, g in groups.items():
        pid = pid_of.get(key, key)
        by_found.setdefault(g, []).append(planted_group(pid))
    purity = sum(max(members.count(x) for x in "ABC") for members in by_found.values()) / len(groups)
    assert purity >= 0.9, by_found

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "SYNTHETIC" not in again.output  # loaded once


def test_attribution_says_written_for_the_project_and_synthetic():
    text = (TAIGI_DIR / "ATTRIBUTION.md").read_text()
    assert "written for this project" in text and "SYNTHETIC" in text and "seeded" in text


def test_generator_reproduces_the_shipped_files(tmp_path):
    before = {p.name: p.read_bytes() for p in TAIGI_DIR.iterdir()}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_taigi_demo.py")], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in TAIGI_DIR.iterdir()} == before
