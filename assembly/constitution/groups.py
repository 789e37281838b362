"""Where opinion groups come from: the newest clustering run (`current_groups`), or a Polis export's own."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from assembly.models import Assembly, Participant
from assembly.results.runs import groups_by_pid, latest_run, result_of


class NoGroupsError(RuntimeError):
    """There are no opinion groups to build a constitution from."""


def current_groups(db: Session, assembly: Assembly) -> tuple[dict[int, Any], dict[str, Any]]:
    """({Participant.id: group id}, clustering-run descriptor) from the latest clustering run."""
    run = latest_run(db, assembly.id)
    if run is None:
        raise NoGroupsError(f"no clustering yet: run `flask cluster {assembly.slug}` first")
    method = result_of(run)["method"]
    id_of = dict(db.exec(select(Participant.pid, Participant.id).where(Participant.assembly_id == assembly.id)).all())
    groups = {id_of[pid]: g for pid, g in groups_by_pid(db, assembly.id).items()}
    parameters = {k: v for k, v in method.items() if k in {"algorithm", "params", "k", "n_clustered", "silhouettes"}}
    info = {"method": method["algorithm"], "parameters": parameters, "run_id": run.id, "hash": run.vote_snapshot_hash}
    return groups, info


def groups_from_polis_export(db: Session, assembly: Assembly, folder: str | Path) -> tuple[dict[int, Any], dict]:
    """Polis's own `group-id` column of participants-votes.csv, matched to participants by `pid`."""
    path = Path(folder) / "participants-votes.csv"
    if not path.is_file():
        raise NoGroupsError(f"no participants-votes.csv in {folder}")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [(int(r["participant"]), r["group-id"]) for r in csv.DictReader(fh) if r.get("group-id", "") != ""]
    id_of = dict(db.exec(select(Participant.pid, Participant.id).where(Participant.assembly_id == assembly.id)).all())
    missing = [pid for pid, _ in rows if pid not in id_of]
    if missing:
        raise NoGroupsError(f"{len(missing)} grouped participant(s) of {path} are not in {assembly.slug!r}, "
                            f"e.g. pid {missing[0]}: was the assembly imported from this export?")
    groups = {id_of[pid]: int(g) for pid, g in rows}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = {"method": "polis-export group-id", "parameters": {"file": "participants-votes.csv"},
            "run_id": None, "hash": digest}
    return groups, info
