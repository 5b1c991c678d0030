"""The two use cases: ``make_backup`` (the database and the attachments into one archive) and
``restore_backup`` (an archive into the configured, empty database and data folder, checked
against its manifest before and after)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from kefu import __version__
from kefu.db.models import Base
from kefu.services.backups import postgres, sqlite
from kefu.services.backups.archive import (
    ArchiveWriter,
    read_archive,
    sha256_of,
    staged_attachments,
)
from kefu.services.backups.manifest import (
    ATTACHMENTS_PREFIX,
    DATABASE_PREFIX,
    EXIT_FAILED,
    EXIT_NOT_EMPTY,
    EXIT_WRONG_KIND,
    BackupError,
    FileEntry,
    Manifest,
)
from kefu.settings import Settings

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DATABASE_FILES = {SQLITE: "kefu.sqlite3", POSTGRESQL: "kefu.pgdump"}
TEMPORARY_SUFFIXES = (".tmp",)  # a blob being written (services/intake/attachments.write_blob)


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest

    @property
    def rows(self) -> int:
        return sum(self.manifest.tables.values())

    @property
    def attachment_bytes(self) -> int:
        return sum(entry.size for entry in self.manifest.attachments)


def database_kind(settings: Settings) -> str:
    return SQLITE if settings.is_sqlite else POSTGRESQL


def make_backup(settings: Settings, path: Path) -> Manifest:
    """Write the archive ``path`` (a new file): first the database's snapshot, then the
    attachments, whose blobs are written before the rows naming them commit, so every
    attachment of the snapshot is there."""
    try:
        return _make_backup(settings, path.absolute())
    except (OSError, sqlite3.Error, SQLAlchemyError) as e:
        raise BackupError(f"写入备份时出错：{_first_line(e)}") from e


def _make_backup(settings: Settings, path: Path) -> Manifest:
    _check_writable(path)
    kind = database_kind(settings)
    url = settings.resolved_database_url
    with _scratch(path.parent, ".kefu-backup-") as scratch:
        staged = scratch / DATABASE_FILES[kind]
        if kind == SQLITE:
            sqlite.snapshot(url, staged)
            tables, revision = sqlite.table_rows(staged), sqlite.revision(staged)
        else:
            tables, revision = postgres.dump(url, staged)
        writer = ArchiveWriter(path)
        try:
            database = writer.add_file(staged, DATABASE_PREFIX + staged.name)
            attachments = [
                writer.add_file(file, ATTACHMENTS_PREFIX + relative)
                for file, relative in _attachment_files(settings.attachments_dir)
            ]
            manifest = Manifest(
                kefu_version=__version__,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                database_kind=kind,
                revision=revision,
                tables=tables,
                database=database,
                attachments=attachments,
            )
            writer.commit(manifest)
        except BaseException:
            writer.abandon()
            raise
    return manifest


def restore_backup(settings: Settings, path: Path) -> RestoreReport:
    """Restore ``path`` into the configured database and attachments folder, which must hold
    no rows and no files; nothing is touched until the whole archive checks out."""
    try:
        return _restore_backup(settings, path)
    except (OSError, sqlite3.Error, SQLAlchemyError) as e:
        raise BackupError(f"恢复时出错：{_first_line(e)}") from e


def _restore_backup(settings: Settings, path: Path) -> RestoreReport:
    kind = database_kind(settings)
    # Restoring makes tables: the schema's owner does it (then `kefu db grant ROLE`).
    url = settings.resolved_migrate_database_url
    with tempfile.TemporaryDirectory(prefix="kefu-restore-") as scratch:
        staging = Path(scratch)
        manifest = read_archive(path, staging)
        if manifest.database_kind != kind:
            raise BackupError(
                f"这是 {manifest.database_kind} 数据库的备份，当前配置的是 {kind}："
                "备份只能恢复到同一种数据库",
                exit_code=EXIT_WRONG_KIND,
            )
        _check_empty(settings, kind)
        staged_database = staging / manifest.database.name
        if kind == SQLITE:
            sqlite.restore(staged_database, url)
            restored = sqlite.table_rows(sqlite.database_path(url))
        else:
            postgres.restore(staged_database, url)
            restored = postgres.rows_now(url)
        _copy_attachments(manifest, staging, settings.attachments_dir)
    _verify(manifest, restored, settings.attachments_dir)
    return RestoreReport(manifest)


def _check_writable(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} 已存在：请换一个文件名（备份不会覆盖已有文件）")
    if not path.parent.is_dir():
        raise BackupError(f"目录不存在：{path.parent}")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise BackupError(f"没有写入权限：{path.parent}")


@contextmanager
def _scratch(parent: Path, prefix: str) -> Iterator[Path]:
    try:
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as e:
        raise BackupError(f"无法在 {parent} 写入：{e.strerror}") from e
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _attachment_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for file in sorted(root.rglob("*")):
        if file.is_file() and not file.is_symlink() and not file.name.endswith(TEMPORARY_SUFFIXES):
            yield file, file.relative_to(root).as_posix()


def _check_empty(settings: Settings, kind: str) -> None:
    """Refuse a database with rows in kefu's tables, or an attachments folder with files."""
    url = settings.resolved_migrate_database_url
    names = sorted(Base.metadata.tables)
    filled = (
        sqlite.filled_tables(url, names) if kind == SQLITE else postgres.filled_tables(url, names)
    )
    files = next(_attachment_files(settings.attachments_dir), None)
    problems = []
    if filled:
        shown = "、".join(filled[:5]) + ("等" if len(filled) > 5 else "")
        problems.append(f"数据库中已有数据（{len(filled)} 张表有行：{shown}）")
    if files is not None:
        problems.append(f"附件目录 {settings.attachments_dir} 中已有文件")
    if problems:
        raise BackupError(
            "恢复的目标必须是空的：" + "；".join(problems) + "。未做任何改动。",
            exit_code=EXIT_NOT_EMPTY,
        )


def _copy_attachments(manifest: Manifest, staging: Path, root: Path) -> None:
    for staged, relative in staged_attachments(manifest, staging):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged, target)


def _verify(manifest: Manifest, restored: dict[str, int], root: Path) -> None:
    """The restored rows per table and files, against the manifest."""
    problems = [
        f"{name}: 应有 {rows} 行，实有 {restored.get(name)}"
        for name, rows in manifest.tables.items()
        if restored.get(name) != rows
    ]
    for entry in manifest.attachments:
        file = root / entry.name.removeprefix(ATTACHMENTS_PREFIX)
        if not file.is_file() or _entry_of(file, entry.name) != entry:
            problems.append(f"附件 {entry.name} 与清单不符")
    if problems:
        raise BackupError("恢复后核对不一致：" + "；".join(problems[:10]), exit_code=EXIT_FAILED)


def _entry_of(file: Path, name: str) -> FileEntry:
    return FileEntry(name=name, size=file.stat().st_size, sha256=sha256_of(file))


def _first_line(error: Exception) -> str:
    """An error's own message, without the SQL and links SQLAlchemy adds below it."""
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
