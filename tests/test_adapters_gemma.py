"""The real path on the real default base model (Gemma 3 270M from its PyPI package), end to end.

Slow: the first resolve converts the GGUF once (about 26 s and 3.3 GB) into FINETUNE_DIR. The
run trains two steps through the queue, registers the adapter, and a PeftModel loaded from the
registry folder gives the same logits as the platform's own loader.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assembly.adapters import registry
from assembly.adapters.models import Adapter, TrainingRun
from tests.adapters_support import published_assembly
from tests.conftest import make_app

pytestmark = pytest.mark.slow


def test_train_on_gemma_3_270m_and_load_the_adapter(database_url, tmp_path_factory):
    import torch
    from peft import PeftModel

    from finetune.base_models import load, resolve
    from finetune.generate import logits

    ft_dir = tmp_path_factory.getbasetemp() / "gemma-ft"  # shared by this session's workers: convert once
    app = make_app(database_url, FINETUNE_DIR=str(ft_dir), HUEY_IMMEDIATE=True,
                   CONSTITUTION_SIMILARITY="char-ngram-tfidf")
    published_assembly(app)
    out = app.test_cli_runner().invoke(args=["finetune", "train", "planted", "--steps", "2", "--name", "gemma",
                                             "--foreground"])
    assert out.exit_code == 0, out.output
    with Session(app.extensions["assembly_engine"]) as db:
        adapter = db.exec(select(Adapter)).one()
        run = db.get(TrainingRun, adapter.run_id)
        assert run.base_model == "gemma-3-270m" and len(run.base_model_sha256) == 64
        folder = registry.adapter_dir(app, adapter)
    base = resolve("gemma-3-270m", ft_dir)
    model, tok = load(base)
    model = PeftModel.from_pretrained(model, str(folder)).eval()
    text = "Statement: Drivers should be licensed.\nAnswer:"
    with torch.no_grad():
        pulled = model(**tok(text, return_tensors="pt")).logits.float()
    assert torch.equal(pulled, logits(base, folder, text))
    app.extensions["assembly_engine"].dispose()
