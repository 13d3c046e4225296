"""The one place where SQLite and PostgreSQL differ for us: INSERT … ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert(connection: Connection, table: Table):  # type: ignore[no-untyped-def]
    """An INSERT with `.on_conflict_do_nothing()` / `.on_conflict_do_update()` for this database."""
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {name}")
