"""Shared set-up for the fine-tuning tests: an assembly with a published constitution, a fast training config.

The planted assembly (tests/constitution_loader.py) has two opinion groups of ten and a known
constitution; training uses finetune's tiny test model (a real Gemma 3 architecture built from a
config) for a few steps, so a whole run takes seconds on 2 cores.
"""

from __future__ import annotations

from sqlmodel import Session, select

from assembly.constitution.build import build_draft
from assembly.constitution.versions import publish
from assembly.models import Assembly, Facilitator
from tests.conftest import FACILITATOR_EMAIL
from tests.constitution_loader import planted_assembly

TINY = "tiny-test-gemma3"
FAST = {"base_model": TINY, "method": "sft", "steps": "4"}


def published_assembly(app, slug: str = "planted") -> Assembly:
    """The planted assembly, owned by the test facilitator, with constitution version 1 published."""
    with app.app_context(), Session(app.extensions["assembly_engine"], expire_on_commit=False) as db:
        owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
        a, groups = planted_assembly(db, owner_id=owner.id, slug=slug)
        draft = build_draft(db, a, groups, {"method": "planted", "run_id": None})
        publish(db, draft)
        return a
