"""Run Alembic migrations from code (``kefu db upgrade``) with the packaged scripts."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from kefu.db.models.search import FTS_TABLE, POSTGRESQL_ONLY_INDEXES, SQLITE_ONLY_INDEXES

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


# The PostgreSQL advisory lock every kefu process takes around an upgrade ("kefu" in ASCII).
MIGRATION_LOCK_KEY = 0x6B656675


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Held while the schema is upgraded: several ``kefu serve`` started at once (deploy/kefu-start,
    a container per machine) upgrade one after another, and the later ones find the work done
    instead of racing the first to create the same tables. PostgreSQL: a session advisory lock
    on a connection of its own (released if the process dies); SQLite: an exclusive lock on a
    file beside the database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            yield
            return
        lock_path = Path(f"{url.database}.migrate-lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
    finally:
        engine.dispose()


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
