"""64-bit ids, Polis numbers and millisecond timestamps on PostgreSQL

Revision ID: 0005_bigint_ids
Revises: 0004_one_running_job
Create Date: 2026-11-23 13:30:00

PostgreSQL's INTEGER is 32-bit: every millisecond timestamp (about 1.8e12) failed to
insert, and a tid or id past 2**31 - 1, which the code accepts up to 2**63 - 1, was a
500 instead of a row or a 404. Ids, foreign keys, tid, pid, created_ms and the vote
counters become BIGINT, and the sequences behind the ids become bigint too (a
SERIAL's sequence stops at 2**31 - 1 whatever its column's type).

SQLite's INTEGER is already 64-bit (and an INTEGER PRIMARY KEY must stay INTEGER to
be the rowid), so on SQLite this revision changes nothing and rebuilds no table.
"""

from alembic import op

revision = '0005_bigint_ids'
down_revision = '0004_one_running_job'
branch_labels = None
depends_on = None

COLUMNS = {
    'facilitator': ['id'],
    'apitoken': ['id', 'facilitator_id'],
    'assembly': ['id', 'owner_id'],
    'participant': ['id', 'assembly_id', 'pid'],
    'xidallow': ['id', 'assembly_id'],
    'statement': ['id', 'assembly_id', 'tid', 'author_id', 'created_ms'],
    'vote': ['id', 'assembly_id', 'participant_id', 'statement_id', 'created_ms'],
    'job': ['id', 'assembly_id'],
    'clusteringrun': ['id', 'assembly_id', 'n_votes', 'last_vote_id'],
    'constitution_version': ['id', 'assembly_id', 'number', 'created_by'],
}


def _retype(sql_type: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in COLUMNS.items():
        # One ALTER TABLE per table: PostgreSQL then rewrites each table once, not once per column.
        op.execute(f'ALTER TABLE {table} ' + ', '.join(f'ALTER COLUMN {c} TYPE {sql_type}' for c in columns))
        op.execute(f"DO $$ DECLARE seq text := pg_get_serial_sequence('{table}', 'id'); BEGIN "
                   f"IF seq IS NOT NULL THEN EXECUTE 'ALTER SEQUENCE ' || seq || ' AS {sql_type}'; END IF; END $$")


def upgrade() -> None:
    _retype('BIGINT')


def downgrade() -> None:
    _retype('INTEGER')
