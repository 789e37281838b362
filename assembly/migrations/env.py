"""Alembic environment: runs against the engine URL given in the config's attributes."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import assembly.models  # noqa: F401 - registers the tables on SQLModel.metadata
from assembly import models_constitution as _constitution_tables  # noqa: F401 - and the constitution's
from assembly import tasks as _task_tables  # noqa: F401 - the task queue's (job_cancel, job_args)
from assembly.adapters import models as _adapter_tables  # noqa: F401 - and fine-tuning's
from assembly.evals import models as _eval_tables  # noqa: F401 - and the evals' (eval_run)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
