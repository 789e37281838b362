"""Sessions, tokens, invites: facilitator_session, apitoken.expires_at, xidallow.nonce, participant.invite_nonce

Revision ID: 0009_sessions_tokens_invites
Revises: 0008_evals

Existing API tokens get an expiry 90 days from the upgrade (the API_TOKEN_DAYS default), so no
token issued before expiry existed stays valid for ever. Existing allow-list rows get a random
nonce each: the old `?xid=` links stop admitting anyone, and the facilitator hands out the new
signed links from the invitations page.
"""

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009_sessions_tokens_invites'
down_revision = '0008_evals'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('facilitator_session',
    sa.Column('id', ID, nullable=False),
    sa.Column('facilitator_id', ID, nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facilitator_id'], ['facilitator.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_facilitator_session_facilitator_id'), 'facilitator_session', ['facilitator_id'],
                    unique=False)
    op.create_index(op.f('ix_facilitator_session_key_hash'), 'facilitator_session', ['key_hash'], unique=True)

    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    with op.batch_alter_table('xidallow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('xidallow', schema=None) as batch_op:
        batch_op.alter_column('nonce', server_default=None)

    conn = op.get_bind()
    tokens = sa.table('apitoken', sa.column('id', ID), sa.column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    conn.execute(tokens.update().where(tokens.c.expires_at.is_(None))
                 .values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    allow = sa.table('xidallow', sa.column('id', ID), sa.column('nonce', sa.String()))
    for (row_id,) in conn.execute(sa.select(allow.c.id)).all():
        conn.execute(allow.update().where(allow.c.id == row_id).values(nonce=secrets.token_hex(8)))


def downgrade() -> None:
    with op.batch_alter_table('xidallow', schema=None) as batch_op:
        batch_op.drop_column('nonce')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('invite_nonce')
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    op.drop_index(op.f('ix_facilitator_session_key_hash'), table_name='facilitator_session')
    op.drop_index(op.f('ix_facilitator_session_facilitator_id'), table_name='facilitator_session')
    op.drop_table('facilitator_session')
