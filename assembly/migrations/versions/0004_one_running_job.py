"""at most one running job of a kind per assembly

Revision ID: 0004_one_running_job
Revises: 0003_constitution
Create Date: 2026-11-23 13:10:00

Several web workers hear the same votes and each debounces a recluster; the
partial unique index makes starting a job a claim that only one can win.
Running jobs of dead processes are marked failed first, so the index can be
built on a database a crash left behind.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_one_running_job'
down_revision = '0003_constitution'
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.execute(
        "UPDATE job SET status = 'failed', error = 'still running when the schema was upgraded' "
        "WHERE status = 'running'"
    )
    op.create_index(
        'ix_job_one_running', 'job', ['kind', 'assembly_id'], unique=True,
        sqlite_where=RUNNING, postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index('ix_job_one_running', table_name='job')
