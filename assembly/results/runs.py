"""Clustering in the app: run it on an assembly's votes, store the result, recluster in the background.

The math is in `clustering/` (no Flask, no database); this module loads the
latest-vote snapshot, calls it with the previous run as a warm start (so group
labels stay stable), and stores the JSON result in `clusteringrun`. Next-statement choice,
the results page, the Polis export and the constitution read the newest run.
Background runs compute in a separate process (`assembly/results/process.py`).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import func
from sqlmodel import Session, select

from assembly.assemblies import get_assembly
from assembly.domain_errors import AssemblyError
from assembly.jobs import Progress
from assembly.models import Assembly, ClusteringRun, Moderation, Statement, Vote
from assembly.results.process import ClusteringProcess, compute, compute_history
from assembly.results.vote_snapshot import load_snapshot, vote_log
from assembly.signals import moderation_changed, votes_changed

# Parsed results: a stored run never changes, so caching per process is safe. The key holds
# more than the id, since one process may serve several databases (ids repeat across them).
_CACHE: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_CACHE_SIZE = 16


def latest_run(db: Session, assembly_id: int) -> ClusteringRun | None:
    return db.exec(
        select(ClusteringRun).where(ClusteringRun.assembly_id == assembly_id).order_by(ClusteringRun.id.desc())
    ).first()


def result_of(run: ClusteringRun) -> dict[str, Any]:
    """The run's result dict (ClusterResult.to_dict()), parsed once per process."""
    key = (run.id, run.assembly_id, run.created_at, run.vote_snapshot_hash, len(run.result_json))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    result = json.loads(run.result_json)
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def current_result(db: Session, assembly_id: int) -> dict[str, Any] | None:
    run = latest_run(db, assembly_id)
    return None if run is None else result_of(run)


def priorities(db: Session, assembly_id: int) -> dict[int, float] | None:
    """{tid: Polis priority} from the newest run, for routing; None before the first run."""
    result = current_result(db, assembly_id)
    if result is None:
        return None
    return {int(tid): float(st["priority"]) for tid, st in result["statements"].items()}


def groups_by_pid(db: Session, assembly_id: int) -> dict[int, int] | None:
    """{pid: group id} of clustered participants in the newest run; None before the first run."""
    result = current_result(db, assembly_id)
    if result is None:
        return None
    return {int(pid): g for pid, g in result["participants"].items() if g is not None}


def run_clustering(
    db: Session,
    assembly: Assembly,
    *,
    device: str = "auto",
    progress: Progress | None = None,
    process: ClusteringProcess | None = None,
    history: bool = False,
    umap_max: int | None = None,
) -> ClusteringRun:
    """Cluster the assembly's latest votes, warm-started from the previous run, and store the result.

    With `process`, the computation runs there instead of in the calling thread. With `history` and
    no previous run, the vote log is replayed in time order (`clustering.replay`), so who is in
    and k evolve as on a live Polis (used after importing a Polis export with votes.csv).
    Up to `umap_max` participants (default: the CLUSTERING_UMAP_MAX setting) the run also stores
    the UMAP map and both maps' trustworthiness; this is the background job's or the CLI's work,
    never a page request's.
    """
    report = progress or (lambda _f, _m="": None)
    report(0.05, "reading votes")
    snap = load_snapshot(db, assembly.id)
    if snap.n_votes == 0:
        raise AssemblyError("nothing to cluster yet: this assembly has no votes", 409)
    if umap_max is None:
        umap_max = int(current_app.config["CLUSTERING_UMAP_MAX"]) if has_app_context() else 0
    previous = latest_run(db, assembly.id)
    args = (snap.pids, snap.tids, snap.values, snap.rejected_tids, snap.meta_tids,
            None if previous is None else result_of(previous), device, umap_max)
    report(0.2, f"clustering {snap.n_participants} participants, {snap.n_votes} votes")
    started = time.perf_counter()
    if history and previous is None:
        result = compute_history(*vote_log(db, assembly.id), snap.rejected_tids, snap.meta_tids, device,
                                 umap_max)
    else:
        result = compute(*args) if process is None else process.run(*args)
    seconds = time.perf_counter() - started
    report(0.9, "saving")
    from assembly.results.report import participation_by_day

    # For the report page: votes and voters per day, counted now so that no request aggregates the log.
    result["participation"] = participation_by_day(db, assembly.id)
    run = ClusteringRun(
        assembly_id=assembly.id,
        n_votes=snap.n_votes,
        n_participants=snap.n_participants,
        vote_snapshot_hash=snap.digest(),
        last_vote_id=snap.last_vote_id,
        device=result["method"]["params"]["device"],
        seconds=seconds,
        # allow_nan=False: NaN is not JSON; a run that produced one fails visibly instead of
        # storing a result that browsers and strict parsers cannot read.
        result_json=json.dumps(result, separators=(",", ":"), allow_nan=False),
    )
    db.add(run)
    db.commit()
    return run


def up_to_date(db: Session, run: ClusteringRun) -> bool:
    """Does `run` reflect the assembly's newest vote and the current moderation of the statements it saw?"""
    newest = db.exec(select(func.max(Vote.id)).where(Vote.assembly_id == run.assembly_id)).one() or 0
    if run.last_vote_id < newest:
        return False
    flags = select(Statement.tid, Statement.moderation, Statement.is_meta).where(
        Statement.assembly_id == run.assembly_id
    )
    now = {str(tid): (moderation == Moderation.rejected, bool(meta)) for tid, moderation, meta in db.exec(flags)}
    seen = result_of(run)["statements"]
    return all(now.get(tid) == (st["moderated_out"], st["meta"]) for tid, st in seen.items())


def schedule(app: Flask, assembly_id: int) -> None:
    """Recluster assembly `assembly_id` in the background, debounced; never blocks the caller."""
    device = app.config["CLUSTERING_DEVICE"]
    umap_max = int(app.config["CLUSTERING_UMAP_MAX"])

    def work(db: Session, progress: Progress) -> str:
        # Several web workers may each schedule a run for the same burst; the later ones find
        # the votes already covered by a stored run and skip.
        previous = latest_run(db, assembly_id)
        if previous is not None and up_to_date(db, previous):
            return f"up to date with run {previous.id}"
        target = db.get(Assembly, assembly_id)
        run = run_clustering(db, target, device=device, progress=progress,
                             process=app.extensions["clustering_process"], umap_max=umap_max)
        groups = len(result_of(run)["group_sizes"])
        return f"{groups} groups from {run.n_participants} participants in {run.seconds:.2f} s"

    app.extensions["jobs"].debounce(
        f"cluster:{assembly_id}", app.config["CLUSTERING_DEBOUNCE_S"], "cluster", assembly_id, work
    )


def _on_inputs_changed(assembly_id: int) -> None:
    if not has_app_context():  # library use outside the app: nothing to schedule
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["CLUSTERING_AUTO"]:
        schedule(app, assembly_id)


@click.command("cluster")
@with_appcontext
@click.argument("slug")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Where to compute (default: the CLUSTERING_DEVICE setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def cluster_cmd(slug: str, device: str | None, as_json: bool) -> None:
    """Cluster assembly SLUG's votes into opinion groups now and store the result."""
    with Session(current_app.extensions["assembly_engine"], expire_on_commit=False) as db:
        try:
            assembly = get_assembly(db, slug)
            run = run_clustering(db, assembly, device=device or current_app.config["CLUSTERING_DEVICE"])
        except AssemblyError as exc:
            raise click.ClickException(exc.message) from exc
        result = result_of(run)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    sizes = ", ".join(f"group {g}: {n}" for g, n in enumerate(result["group_sizes"]))
    click.echo(
        f"{slug}: {run.n_participants} participants, {run.n_votes} votes -> "
        f"{len(result['group_sizes'])} groups ({sizes}) in {run.seconds:.2f} s on {run.device}"
    )


def init_app(app: Flask) -> None:
    app.extensions["clustering_process"] = ClusteringProcess()  # started by the first background run
    app.cli.add_command(cluster_cmd)
    votes_changed.connect(_on_inputs_changed, weak=False)
    moderation_changed.connect(_on_inputs_changed, weak=False)
