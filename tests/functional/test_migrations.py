"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from controller.db import migration, models
from controller.db.base import Database


def test_sync_is_idempotent_and_matches_models(database_url):
    database = Database(database_url)
    try:
        assert migration.version(database) is None
        migration.sync(database)
        head = migration.version(database)
        assert head is not None
        migration.sync(database)
        assert migration.version(database) == head
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection),
                                    models.Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        database.dispose()
