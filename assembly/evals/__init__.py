"""Evals glue: eval runs on the task queue, the report pages, `flask evals run`, the promoted adapter.

The ML is in `finetune/evals/` (no Flask, no database); this package builds each run's inputs from
the database (the adapter's dataset, held-out statements and constitution), runs it as a queued
job or in the CLI's process, stores the report and writes it into the adapter's model card.
The community-written items (`community.py`, with their pages and API) are proposed and voted on
by the assembly and join the `community` suite once every opinion group supports them.
"""

from __future__ import annotations

from flask import Flask

import assembly.evals.models  # noqa: F401 - registers the table on SQLModel.metadata
from assembly.evals import rating_models  # noqa: F401 - registers the human rating tables


def init_app(app: Flask) -> None:
    """Register the pages (eval runs, community items), the `flask evals` commands and the queued task."""
    from assembly.evals import cli  # imports runner, which registers the evals.run task
    from assembly.evals.community_web import bp as items_bp
    from assembly.evals.rating_web import bp as rating_bp
    from assembly.evals.web import bp

    app.register_blueprint(bp)
    app.register_blueprint(rating_bp)
    app.register_blueprint(items_bp)
    cli.init_app(app)
    app.jinja_env.globals["eval_decision"] = eval_decision
    app.jinja_env.globals["rating_open"] = rating_open


def rating_open(assembly) -> bool:
    """For the participant pages' navigation: is a human rating round open in this assembly?"""
    from assembly.db import get_session
    from assembly.evals.rating import current_round

    return current_round(get_session(), assembly) is not None


def eval_decision(adapter) -> str:
    """For the registry's list: 'latest' (promoted, and what SLUG/latest serves), 'promoted',
    'not fit' (its newest eval said so) or '' (never evaluated)."""
    from assembly.adapters import registry
    from assembly.auth import current_facilitator
    from assembly.db import get_session
    from assembly.evals.runner import latest_for
    from assembly.models import Assembly

    db = get_session()
    ev = latest_for(db, adapter)
    if ev is None:
        return ""
    if not ev.fit_to_ship:
        return "not fit"
    latest = registry.latest_adapter(db, db.get(Assembly, adapter.assembly_id), current_facilitator())
    return "latest" if latest is not None and latest.id == adapter.id else "promoted"
