"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

Why: the app runs on a migrated database, while the models are what the code (and a
database made with `create_all`) assume. A column the migrations type differently
(PostgreSQL's 32-bit INTEGER under a millisecond timestamp) fails only at run time.
"""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel

import assembly.models_constitution  # noqa: F401 - registers the constitution's table on the metadata
from assembly.db import make_engine
from assembly.migrate import alembic_config, upgrade
from assembly.models import BIGINT_MAX, Assembly, Moderation, Participant, Statement, Vote, now_ms

BIG = 2**63 - 1


def schema_diff(engine) -> list:
    """What alembic would change to make the database match the models (nothing, when they agree)."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_migrated_schema_matches_the_models(empty_database_url):
    engine = make_engine(empty_database_url)
    upgrade(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_every_migration_downgrades_and_upgrades_again(empty_database_url):
    """Down to nothing and back: no table, index or PostgreSQL enum type is left behind to trip the way up."""
    engine = make_engine(empty_database_url)
    upgrade(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    if engine.dialect.name == "postgresql":
        assert inspect(engine).get_enums() == []
    upgrade(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_ids_numbers_and_timestamps_are_64_bit_in_the_models():
    """Every key, tid, pid and created_ms holds what the code accepts (BIGINT_MAX), PostgreSQL included."""
    assert BIGINT_MAX == BIG
    dialect = postgresql.dialect()
    narrow = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if (column.primary_key or column.foreign_keys or column.name in {"tid", "pid", "created_ms"})
        and column.type.compile(dialect=dialect) != "BIGINT"
    ]
    assert narrow == []


def test_upgrade_keeps_rows_and_then_stores_64_bit_values(empty_database_url):
    """A database made before 0005 keeps its rows; afterwards the largest values the code allows fit."""
    engine = make_engine(empty_database_url)
    upgrade(engine, "0004_one_running_job")
    with engine.begin() as conn:  # values a 32-bit column holds: all PostgreSQL could store before
        aid = conn.execute(insert(Assembly.__table__).values(
            slug="old", title="Old", question="", description="", language="en", strict_moderation=False,
            participants_can_write=True, statement_max_length=280, is_open=True, xid_required=False,
            created_at=Assembly().created_at, source="").returning(Assembly.__table__.c.id)).scalar_one()
        conn.execute(insert(Statement.__table__).values(
            assembly_id=aid, tid=7, text="Kept.", is_seed=True, moderation=Moderation.accepted, is_meta=False,
            language="en", created_ms=1_000))
    upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(select(Statement.tid, Statement.text, Statement.created_ms)).all() == [(7, "Kept.", 1_000)]
        pid = conn.execute(insert(Participant.__table__).values(
            assembly_id=aid, pid=BIG, token="pt_big", created_at=Assembly().created_at,
        ).returning(Participant.__table__.c.id)).scalar_one()
        sid = conn.execute(insert(Statement.__table__).values(
            assembly_id=aid, tid=BIG, text="Far.", is_seed=False, moderation=Moderation.accepted, is_meta=False,
            language="en", created_ms=now_ms()).returning(Statement.__table__.c.id)).scalar_one()
        conn.execute(insert(Vote.__table__).values(
            id=BIG, assembly_id=aid, participant_id=pid, statement_id=sid, value=1, created_ms=now_ms()))
        assert conn.execute(select(Vote.id, Statement.tid).join(Statement)).all() == [(BIG, BIG)]
        if engine.dialect.name == "postgresql":
            # A SERIAL's sequence stops at 2**31 - 1 whatever its column's type: the ids' sequences are bigint too.
            sql = "SELECT sequencename FROM pg_sequences WHERE data_type <> 'bigint'::regtype OR max_value <> :big"
            assert conn.execute(text(sql), {"big": BIG}).all() == []
    assert "constitution_version" in inspect(engine).get_table_names()
    engine.dispose()
