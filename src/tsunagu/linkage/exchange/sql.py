"""One statement the hot path needs in each engine's dialect: insert rows, skipping any that a unique constraint
already holds (``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL), built once per table and dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

_BUILT: dict[tuple[str, str], Insert] = {}


def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``; a row whose unique key is already present is left out (the log keeps the first)."""
    if not rows:
        return
    key = (conn.dialect.name, table.name)
    statement = _BUILT.get(key)
    if statement is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).on_conflict_do_nothing()
        _BUILT[key] = statement
    conn.execute(statement, rows)
