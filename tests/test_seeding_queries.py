"""Seeding is linear: the duplicate check is one query per batch, not one per line (issue 11).

A 1,000-statement API seed took 4.9 s, 37.5 s and 100 s as the assembly grew to 0, 1,000 and
2,000 statements. Counting SQL statements is exact on a loaded machine, where timing is not.
"""

from __future__ import annotations

from sqlalchemy import event, func
from sqlmodel import select

from assembly.facilitation.rules import Seed, seed_statements
from assembly.models import Statement


def statements_run(db, assembly, texts: list[str], *, all_or_none: bool = False):
    """(SQL statements other than INSERTs the seed ran, its result)."""
    engine = db.get_bind()
    run: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("INSERT"):  # one INSERT per new statement is the output
            run.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = seed_statements(db, assembly, [Seed(t, i + 1) for i, t in enumerate(texts)],
                                 all_or_none=all_or_none)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return run, result


def test_the_number_of_queries_does_not_grow_with_the_batch(db, assembly):
    small, result = statements_run(db, assembly, [f"Small batch statement number {i}." for i in range(5)])
    assert len(result.added) == 5
    large, result = statements_run(db, assembly, [f"Large batch statement number {i}." for i in range(500)])
    assert len(result.added) == 500
    assert len(large) == len(small), (small, large[:20])
    assert db.exec(select(func.count()).select_from(Statement)).one() == 3 + 5 + 500


def test_one_query_still_finds_every_duplicate_in_the_batch(db, assembly):
    texts = ["A new idea.", "build more BIKE lanes", "Another new idea.", "Plant trees on every street."]
    _, result = statements_run(db, assembly, texts)
    assert [s.text for s in result.added] == ["A new idea.", "Another new idea."]
    assert [(seed.line, str(exc)) for seed, exc in result.rejected] == [
        (2, "statement 2 is already in the assembly (#0)"), (4, "statement 4 is already in the assembly (#2)")]
