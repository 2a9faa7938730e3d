"""Schema migrations: `stratus-manage db sync` and `db version`."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from controller.db.base import Database

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def _config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def sync(database: Database, revision: str = "head") -> None:
    """Upgrade the schema to revision (the newest by default)."""
    config = _config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def version(database: Database) -> str | None:
    """The revision the database is at, or None before the first sync."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def generate(database: Database, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    config = _config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
