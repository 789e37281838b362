"""Fine-tuning glue: datasets from a published constitution, training runs on the task queue, the adapter registry.

The ML is in `finetune/` (no Flask, no database); this package runs it as queued jobs, records
provenance and progress in the database, and serves the adapters: facilitator pages, a JSON API,
`flask finetune` commands, and a Hugging Face-compatible endpoint at /hf.
"""

from __future__ import annotations

from flask import Flask

import assembly.adapters.models  # noqa: F401 - registers the tables on SQLModel.metadata


def init_app(app: Flask) -> None:
    """Register the pages, the API, the /hf endpoint, the `flask finetune` commands and the queued tasks."""
    from assembly.adapters.api import bp as api_bp
    from assembly.adapters.cli import finetune_cli
    from assembly.adapters.hf import bp as hf_bp
    from assembly.adapters.tryit import bp as try_bp  # also registers the finetune.generate task
    from assembly.adapters.web import bp as web_bp  # imports runs: the finetune.train task

    app.register_blueprint(web_bp)
    app.register_blueprint(try_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(hf_bp)
    app.cli.add_command(finetune_cli)
