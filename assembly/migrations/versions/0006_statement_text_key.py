"""One statement per normalised text: statement.text_key with a unique index

Revision ID: 0006_statement_text_key
Revises: 0005_bigint_ids
Create Date: 2026-12-02 04:00:00

The duplicate check loaded every statement of the assembly for each new one (O(n): 14 s
for a paste of 500 lines) and two identical posts arriving together both passed it. The
key (sha256 of the normalised text, assembly/texts.py) is backfilled for existing rows:
the first statement of each text gets it, later duplicates (possible in Polis imports)
keep NULL, which a unique index does not compare, so no existing row is refused.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from assembly.texts import text_key

revision = '0006_statement_text_key'
down_revision = '0005_bigint_ids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('statement') as batch:
        batch.add_column(sa.Column('text_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    conn = op.get_bind()
    statement = sa.table('statement', sa.column('id'), sa.column('assembly_id'), sa.column('text'),
                         sa.column('text_key'))
    seen: set[tuple[int, str]] = set()
    updates = []
    rows = conn.execute(sa.select(statement.c.id, statement.c.assembly_id, statement.c.text).order_by(statement.c.id))
    for sid, assembly_id, text in rows:
        key = (assembly_id, text_key(text))
        if key not in seen:
            seen.add(key)
            updates.append({'sid': sid, 'key': key[1]})
    if updates:
        conn.execute(
            statement.update().where(statement.c.id == sa.bindparam('sid')).values(text_key=sa.bindparam('key')),
            updates,
        )
    op.create_index('uq_statement_text_key', 'statement', ['assembly_id', 'text_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_statement_text_key', table_name='statement')
    with op.batch_alter_table('statement') as batch:
        batch.drop_column('text_key')
