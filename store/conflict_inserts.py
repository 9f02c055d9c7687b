"""INSERT … ON CONFLICT in the session's own dialect.

Idempotent writes then take one statement: no read to check first, no savepoint to
roll back a duplicate, and SQLite's write lock held for that statement alone."""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

ROWS_PER_STATEMENT = 500
"""Far below the bound parameters a statement may carry (32,766 in SQLite, 65,535 in
PostgreSQL) for tables of a dozen columns."""

ConflictInsert = postgresql.Insert | sqlite.Insert
"""Both have ``on_conflict_do_nothing``, ``on_conflict_do_update`` and ``excluded``
with the same signatures."""


def _insert(session: Session, table: Table) -> ConflictInsert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"base de données non prise en charge : {dialect}")


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    on_conflict: Callable[[ConflictInsert], ConflictInsert],
) -> int:
    """Inserts ``rows``, ``on_conflict`` saying what becomes of a row whose key is
    there; says how many rows were inserted or changed."""
    changed = 0
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        statement = on_conflict(_insert(session, table).values(chunk))
        counted = statement.execution_options(preserve_rowcount=True)
        changed += session.exec(counted).rowcount
    return changed


def insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Inserts the rows whose unique keys are not taken; says how many."""
    return insert_rows(session, table, rows, lambda insert: insert.on_conflict_do_nothing())
