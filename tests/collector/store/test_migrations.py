"""Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from collector.store import database, schema


def test_upgrade_creates_the_declared_schema(store_url: str) -> None:
    engine = database.open_store(store_url)
    try:
        assert database.is_current(engine)
        assert set(schema.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), schema.metadata)
        assert diff == [], f"schema.py and the migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(store_url: str) -> None:
    engine = database.open_store(store_url)
    database.upgrade(engine)
    assert database.is_current(engine)
    engine.dispose()


def test_a_fresh_database_is_not_current(store_url: str) -> None:
    engine = database.connect(store_url)
    assert not database.is_current(engine)
    engine.dispose()
