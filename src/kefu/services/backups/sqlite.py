"""SQLite: the snapshot through the online backup API (one step: a consistent copy while kefu
reads and writes, which WAL lets go on), and the restore through the same API into the
configured file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from kefu.services.backups.manifest import BackupError

BUSY_TIMEOUT_SECONDS = 30


def database_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复")
    return Path(database)


def snapshot(url: str, target: Path) -> None:
    """Copy the database of ``url`` into the new file ``target``."""
    source_path = database_path(url)
    if not source_path.is_file():
        raise BackupError(f"数据库文件不存在：{source_path}")
    with (
        closing(sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_SECONDS)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)  # pages=-1: all of it in one step, one read transaction
    with closing(sqlite3.connect(target)) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive


def table_rows(path: Path) -> dict[str, int]:
    """Rows per table of the SQLite file (its own bookkeeping tables aside)."""
    with closing(sqlite3.connect(path)) as db:
        return _counts(db, _tables(db))


def revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as db:
        if "alembic_version" not in _tables(db):
            return None
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


def filled_tables(url: str, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that hold rows in the configured database (none if it has no file)."""
    path = database_path(url)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)) as db:
        present = [n for n in names if n in set(_tables(db))]
        return [n for n, rows in _counts(db, present).items() if rows]


def restore(staged: Path, url: str) -> None:
    """Copy the staged database file into the configured one, page by page."""
    path = database_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(staged)) as source,
        closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)) as target,
    ):
        source.backup(target)


def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY name"
    )
    return [str(name) for (name,) in rows]


def _counts(db: sqlite3.Connection, names: Iterable[str]) -> dict[str, int]:
    return {
        name: int(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608 - names from sqlite_master
        for name in names
    }
