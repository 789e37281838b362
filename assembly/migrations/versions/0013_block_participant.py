"""Blocking a participant: participant.blocked_at (null = not blocked).

A blocked participant's statements and votes stay in the database (the audit trail and the
Polis export's votes.csv), but leave the clustering and the constitution's counts.

Revision ID: 0013_block_participant
Revises: 0012_human_rating
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013_block_participant'
down_revision = '0012_human_rating'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participant') as batch:
        batch.add_column(sa.Column('blocked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participant') as batch:
        batch.drop_column('blocked_at')
