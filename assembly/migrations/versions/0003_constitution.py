"""constitution versions

Revision ID: 0003_constitution
Revises: 0002_jobs
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003_constitution'
down_revision = '0002_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('constitution_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('vote_snapshot_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assembly_id', 'number')
    )
    with op.batch_alter_table('constitution_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_constitution_version_assembly_id'), ['assembly_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('constitution_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_constitution_version_assembly_id'))
    op.drop_table('constitution_version')
