"""Training datasets from a published constitution version, stored once under FINETUNE_DIR with a row.

The facilitator reviews a dataset before training (counts per kind, samples, held out, scrubbed),
so it is built on request from the version's export (`finetune.data.build_dataset`), plus the
preference pairs participants' blind ratings gave (`assembly/evals/rating.py`), written
atomically to datasets/ASSEMBLY/SHA, and recorded with the constitution's id, number and hash, the
clustering run id and the vote-snapshot hash it came from. The same version builds the same bytes,
so asking twice reuses the row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from assembly.adapters.models import Dataset
from assembly.adapters.registry import finetune_dir
from assembly.constitution import versions
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly, Moderation, Statement
from assembly.models_constitution import ConstitutionVersion

FILES = ("sft.jsonl", "preference.jsonl", "heldout.jsonl")


def published_version(db: Session, assembly: Assembly, number: int | None) -> ConstitutionVersion:
    """Published version `number` (default: the newest), or a 409 that says to publish one first."""
    v = versions.published(db, assembly.id, number)
    if v is None:
        if number is None:
            raise AssemblyError(f"{assembly.slug} has no published constitution yet: publish one before training", 409)
        raise AssemblyError(f"{assembly.slug} has no published constitution version {number}", 404)
    return v


def dataset_for(app: Flask, db: Session, assembly: Assembly, version: ConstitutionVersion,
                taigi: bool | None = None) -> Dataset:
    """The dataset of a published version: the existing row, or built, written and recorded now.

    taigi: the facilitator's choice of Taigi language records (docs/language.md): True adds them
    to any assembly's data, False leaves them out even for a Taigi assembly, None lets the
    assembly's language decide. The records change the data, so each choice is its own dataset.

    Raises AssemblyError (409) for an empty dataset or a constitution the builder refuses;
    nothing is written then.
    """
    from finetune.data import DatasetInput, build_dataset
    from finetune.errors import FinetuneError
    from finetune.taigi_data import language_records

    doc = versions.exported(version)
    accepted = db.exec(select(Statement).where(Statement.assembly_id == assembly.id,
                                               Statement.moderation == Moderation.accepted))
    # A Taigi assembly's dataset also teaches the language (docs/language.md), and so does any
    # assembly's when the facilitator asks; [] otherwise.
    extra = [] if taigi is False else language_records(
        [{"tid": s.tid, "text": s.text} for s in accepted], assembly.slug, assembly.language,
        requested=bool(taigi), topic=assembly.question)
    pairs, rated = _human_rating(db, assembly)
    try:
        data = build_dataset(DatasetInput(constitution=doc, extra_sft=extra, extra_preference=pairs,
                                          extra_report={"human_rating": rated} if rated["rounds"] else {}))
    except FinetuneError as exc:
        raise AssemblyError(str(exc), 409) from exc
    existing = db.exec(select(Dataset).where(Dataset.constitution_version_id == version.id,
                                             Dataset.sha256 == data.sha256)).first()
    if existing is not None and (finetune_dir(app) / existing.path).is_dir():
        return existing
    rel = f"datasets/{assembly.id}/{data.sha256[:16]}"
    try:
        data.write_jsonl(finetune_dir(app) / rel)
    except FinetuneError as exc:  # DiskFull: the folder was not kept
        raise AssemblyError(str(exc), 507) from exc
    if existing is not None:  # its files were lost: they are back now
        return existing
    prov = data.provenance
    row = Dataset(assembly_id=assembly.id, constitution_version_id=version.id, constitution_number=version.number,
                  constitution_hash=version.content_hash, clustering_run_id=prov.get("clustering_run_id"),
                  vote_snapshot_hash=prov["vote_snapshot_sha256"], sha256=data.sha256,
                  n_records=len(data.sft) + len(data.preference), report_json=json.dumps(data.report), path=rel)
    db.add(row)
    db.commit()
    return row


def _human_rating(db: Session, assembly: Assembly) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Preference pairs from the assembly's human rating rounds (bridging rule) and their summary."""
    from assembly.evals.rating import rated_prompts
    from finetune.evals.rating import preference_pairs

    return preference_pairs(rated_prompts(db, assembly))


def report(ds: Dataset) -> dict[str, Any]:
    return json.loads(ds.report_json)


def folder(app: Flask, ds: Dataset) -> Path:
    return finetune_dir(app) / ds.path


def taigi_records(ds: Dataset) -> int:
    """How many Taigi language records the dataset holds (its report counts them by kind)."""
    from finetune.taigi_data import LANGUAGE_KINDS

    sft = report(ds).get("counts", {}).get("sft", {})
    return sum(int(sft.get(kind, 0)) for kind in LANGUAGE_KINDS)


def provenance(ds: Dataset, language: str | None = None) -> dict[str, Any]:
    """The dataset's links down the chain, with ids and hashes (for run records and the card).

    language: the assembly's; with it, how many Taigi language records went in and why (asked
    for, declined, or the assembly's language), which the model card states.
    """
    extra: dict[str, Any] = {}
    if language is not None:
        from finetune.taigi_data import records_reason, wants_taigi

        n = taigi_records(ds)
        taigi = (True if n else None) if not wants_taigi(language) else (None if n else False)
        extra = {"taigi_records": n, "taigi_records_why": records_reason(language, taigi)}
    return {**extra, "dataset_id": ds.id, "dataset_sha256": ds.sha256,
            "constitution_version_id": ds.constitution_version_id,
            "constitution_version": ds.constitution_number, "constitution_hash": ds.constitution_hash,
            "clustering_run_id": ds.clustering_run_id, "vote_snapshot_sha256": ds.vote_snapshot_hash}


def latest_dataset(db: Session, assembly: Assembly) -> Dataset | None:
    return db.exec(select(Dataset).where(Dataset.assembly_id == assembly.id).order_by(Dataset.id.desc())).first()
