"""Run Alembic migrations from code (``kefu db upgrade``) with the packaged scripts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from kefu.db.models.search import FTS_TABLE, POSTGRESQL_ONLY_INDEXES, SQLITE_ONLY_INDEXES

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def schema_filter(dialect: str) -> Callable[..., bool]:
    """What autogenerate compares with the models (``include_object``): not the FTS5 tables and
    their shadow tables (migration 0008 makes them on SQLite), nor the indexes of the other
    database only."""
    elsewhere = SQLITE_ONLY_INDEXES if dialect == "postgresql" else POSTGRESQL_ONLY_INDEXES

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
            return False
        return not (type_ == "index" and name in elsewhere)

    return include
