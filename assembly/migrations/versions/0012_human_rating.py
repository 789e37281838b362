"""Human rating: rating_round (blind comparisons of an adapter with its base), rating_prompt, rating_choice

Revision ID: 0012_human_rating
Revises: 0011_community_items
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0012_human_rating'
down_revision = '0011_community_items'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('rating_round',
    sa.Column('id', ID, nullable=False),
    sa.Column('assembly_id', ID, nullable=False),
    sa.Column('adapter_id', ID, nullable=False),
    sa.Column('seed', ID, nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('created_by', ID, nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['adapter_id'], ['adapter.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rating_round_assembly_id'), 'rating_round', ['assembly_id'], unique=False)
    op.create_index(op.f('ix_rating_round_adapter_id'), 'rating_round', ['adapter_id'], unique=False)

    op.create_table('rating_prompt',
    sa.Column('id', ID, nullable=False),
    sa.Column('round_id', ID, nullable=False),
    sa.Column('generation_id', ID, nullable=False),
    sa.Column('heldout_tid', ID, nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rating_round.id'], ),
    sa.ForeignKeyConstraint(['generation_id'], ['generation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rating_prompt_round_id'), 'rating_prompt', ['round_id'], unique=False)

    op.create_table('rating_choice',
    sa.Column('id', ID, nullable=False),
    sa.Column('prompt_id', ID, nullable=False),
    sa.Column('participant_id', ID, nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('adapter_shown_as', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['prompt_id'], ['rating_prompt.id'], ),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prompt_id', 'participant_id')
    )
    op.create_index(op.f('ix_rating_choice_participant_id'), 'rating_choice', ['participant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('rating_choice')
    op.drop_table('rating_prompt')
    op.drop_table('rating_round')
