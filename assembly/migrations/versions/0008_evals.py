"""Evals: eval_run (one evaluation of a base model and an adapter, its decision and report file), redteam_item

Revision ID: 0008_evals
Revises: 0007_adapters
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0008_evals'
down_revision = '0007_adapters'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('eval_run',
    sa.Column('id', ID, nullable=False),
    sa.Column('assembly_id', ID, nullable=False),
    sa.Column('adapter_id', ID, nullable=True),
    sa.Column('dataset_id', ID, nullable=True),
    sa.Column('job_id', ID, nullable=True),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('suites_json', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('fit_to_ship', sa.Boolean(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('report_path', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('report_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('models_json', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('wall_time_s', sa.Float(), nullable=False),
    sa.Column('created_by', ID, nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['adapter_id'], ['adapter.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_eval_run_assembly_id'), 'eval_run', ['assembly_id'], unique=False)
    op.create_index(op.f('ix_eval_run_adapter_id'), 'eval_run', ['adapter_id'], unique=False)


    op.create_table('redteam_item',
    sa.Column('id', ID, nullable=False),
    sa.Column('assembly_id', ID, nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('bad_output', sa.Text(), nullable=False),
    sa.Column('good_output', sa.Text(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
    sa.Column('filed_by', ID, nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['filed_by'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_redteam_item_assembly_id'), 'redteam_item', ['assembly_id'], unique=False)


def downgrade() -> None:
    op.drop_table('redteam_item')
    op.drop_table('eval_run')
