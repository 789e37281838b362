"""Tables of the fine-tuning stage: datasets, training runs, adapters and "Try it" generations.

The provenance chain is explicit in columns, each with ids and hashes:
adapter -> training_run -> dataset -> constitution_version (id, number, content hash)
-> clustering run (id) -> vote snapshot (hash). The files (JSONL, adapter folder, archive) live
under FINETUNE_DIR; a row is written only once its files are complete, and files are only kept
for a row (see assembly/adapters/registry.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from assembly.models import BigInt, utcnow


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    interrupted = "interrupted"  # its worker died; resumable from the last checkpoint


ACTIVE = (RunStatus.queued, RunStatus.running)
METHODS = ("sft", "dpo", "sft+dpo")


class Dataset(SQLModel, table=True):
    """Training data built from one published constitution version and the votes it came from."""

    __table_args__ = (UniqueConstraint("constitution_version_id", "sha256"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    constitution_version_id: int = Field(foreign_key="constitution_version.id", sa_type=BigInt)
    constitution_number: int = Field(sa_type=BigInt)
    constitution_hash: str = Field(max_length=64)
    clustering_run_id: int | None = Field(default=None, sa_type=BigInt)  # as the constitution recorded it
    vote_snapshot_hash: str = Field(max_length=64)
    sha256: str = Field(max_length=64)
    n_records: int = 0
    report_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    path: str = Field(max_length=1000)  # the dataset folder (records JSONL + report), relative to FINETUNE_DIR
    created_at: datetime = Field(default_factory=utcnow)


class TrainingRun(SQLModel, table=True):
    """One training of a LoRA adapter: what it used, how it went (updated live by the worker), what it made."""

    __tablename__ = "training_run"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    dataset_id: int = Field(foreign_key="dataset.id", sa_type=BigInt, index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id", sa_type=BigInt)  # the latest attempt
    # The adapter this run continued from. No foreign key: adapter.run_id already points here, and a
    # cycle of keys would make table creation order-dependent on PostgreSQL.
    parent_adapter_id: int | None = Field(default=None, sa_type=BigInt)
    base_model: str = Field(max_length=500)
    base_model_sha256: str = Field(default="", max_length=64)
    method: str = Field(max_length=16)
    hyperparameters_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    seed: int = 0
    adapter_name: str = Field(max_length=96)  # the registry name the adapter gets when the run finishes
    is_private: bool = False
    status: str = Field(default=RunStatus.queued.value, max_length=16)  # a RunStatus value
    step: int = 0
    max_steps: int = 0
    loss: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None
    log: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    loss_curve_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    library_versions_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    wall_time_s: float = 0.0
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attempts: int = 0
    created_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None  # the worker's last write: a heartbeat


class Adapter(SQLModel, table=True):
    """A trained adapter in the registry; served as the Hugging Face repository SLUG/NAME."""

    __table_args__ = (UniqueConstraint("assembly_id", "name"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    assembly_id: int = Field(foreign_key="assembly.id", sa_type=BigInt, index=True)
    name: str = Field(max_length=96)
    run_id: int = Field(foreign_key="training_run.id", sa_type=BigInt, unique=True)
    path: str = Field(max_length=1000)  # the adapter folder, relative to FINETUNE_DIR
    revision: str = Field(max_length=40)  # content-derived commit sha the /hf endpoint serves
    archive_sha256: str = Field(max_length=64)
    archive_size: int = Field(default=0, sa_type=BigInt)
    # [{"path", "size", "sha256", "git_sha1"}] of every file, so the /hf endpoint never re-hashes weights.
    files_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    is_private: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Generation(SQLModel, table=True):
    """A "Try it" prompt answered by the base model and by the adapter, side by side (a queued job)."""

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    adapter_id: int = Field(foreign_key="adapter.id", sa_type=BigInt, index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id", sa_type=BigInt)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    base_answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    adapter_answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    max_new_tokens: int = 64
    created_by: int | None = Field(default=None, foreign_key="facilitator.id", sa_type=BigInt)
    created_at: datetime = Field(default_factory=utcnow)
