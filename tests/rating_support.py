"""Arranged rows for the human rating tests that need no training: an adapter row and a round whose
generations are already answered (the generation job and training are exercised in
tests/test_rating_web.py)."""

from __future__ import annotations

from sqlmodel import Session

from assembly.adapters.models import Adapter, Dataset, Generation, TrainingRun
from assembly.evals.rating_models import RatingPrompt, RatingRound
from assembly.models import Assembly, Job, JobStatus
from assembly.models_constitution import ConstitutionVersion


def answered_round(db: Session, assembly: Assembly, prompts: tuple[str, ...], seed: int = 11
                   ) -> tuple[RatingRound, list[RatingPrompt]]:
    """A round on an adapter row of `assembly` with one answered prompt per text ("base I" / "adapter I")."""
    version = ConstitutionVersion(assembly_id=assembly.id, number=1, status="draft", document="{}")
    db.add(version)
    db.commit()
    ds = Dataset(assembly_id=assembly.id, constitution_version_id=version.id, constitution_number=1,
                 constitution_hash="c" * 64, vote_snapshot_hash="v" * 64, sha256="d" * 64, path="datasets/x")
    db.add(ds)
    db.commit()
    run = TrainingRun(assembly_id=assembly.id, dataset_id=ds.id, base_model="tiny-test-gemma3", method="sft",
                      adapter_name="one", status="done")
    db.add(run)
    db.commit()
    adapter = Adapter(assembly_id=assembly.id, name="one", run_id=run.id, path="adapters/x", revision="r" * 40,
                      archive_sha256="a" * 64)
    db.add(adapter)
    db.commit()
    rnd = RatingRound(assembly_id=assembly.id, adapter_id=adapter.id, seed=seed)
    db.add(rnd)
    db.commit()
    out = []
    for i, text in enumerate(prompts):
        job = Job(kind="finetune.generate", assembly_id=assembly.id, status=JobStatus.done)
        db.add(job)
        db.commit()
        gen = Generation(adapter_id=adapter.id, job_id=job.id, prompt=text, base_answer=f"base {i}",
                         adapter_answer=f"adapter {i}")
        db.add(gen)
        db.commit()
        p = RatingPrompt(round_id=rnd.id, generation_id=gen.id, position=i)
        db.add(p)
        db.commit()
        out.append(p)
    return rnd, out
