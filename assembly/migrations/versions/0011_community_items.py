"""Community-written eval items: community_item (prompt, good and bad answer, moderation) and
community_item_vote (one current vote per participant and item)

Revision ID: 0011_community_items
Revises: 0009_sessions_tokens_invites
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0011_community_items'
down_revision = '0009_sessions_tokens_invites'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('community_item',
    sa.Column('id', ID, nullable=False),
    sa.Column('assembly_id', ID, nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('good', sa.Text(), nullable=False),
    sa.Column('bad', sa.Text(), nullable=False),
    sa.Column('text_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('moderation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author_id', ID, nullable=True),
    sa.Column('filed_by', ID, nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['filed_by'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assembly_id', 'text_key', name='uq_community_item_text')
    )
    op.create_index(op.f('ix_community_item_assembly_id'), 'community_item', ['assembly_id'], unique=False)
    op.create_table('community_item_vote',
    sa.Column('id', ID, nullable=False),
    sa.Column('assembly_id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('participant_id', ID, nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('created_ms', ID, nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assembly.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['community_item.id'], ),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'participant_id', name='uq_community_item_vote')
    )
    op.create_index(op.f('ix_community_item_vote_assembly_id'), 'community_item_vote', ['assembly_id'], unique=False)
    op.create_index(op.f('ix_community_item_vote_item_id'), 'community_item_vote', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_table('community_item_vote')
    op.drop_table('community_item')
