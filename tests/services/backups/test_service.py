"""A backup restored into a fresh database and data folder holds every row and every file;
a non-empty target, a damaged archive and another kind of database are refused, untouched."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import tarfile
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from kefu.db.models import Base, Message, Ticket
from kefu.services.backups import sqlite as sqlite_backup
from kefu.services.backups.manifest import (
    EXIT_BAD_ARCHIVE,
    EXIT_NOT_EMPTY,
    EXIT_WRONG_KIND,
    BackupError,
)
from kefu.services.backups.service import make_backup, restore_backup
from tests import factories
from tests.backup_targets import (
    files_under,
    fingerprint,
    fresh_target,
    make_cases_with_attachment,
)


def _rewrite(archive: Path, out: Path, change) -> None:
    """A copy of ``archive`` with ``change(name, data)`` applied to each member's bytes."""
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))


def test_a_restore_holds_every_row_and_file(db, engine, settings, tmp_path):
    made, picture = make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu.tar.gz"

    manifest = make_backup(settings, archive)

    assert manifest.tables["tickets"] == 3 and manifest.tables["attachments"] == 1
    assert f"attachments/{picture[:2]}/{picture}" in {a.name for a in manifest.attachments}
    with fresh_target(settings, tmp_path) as target:
        report = restore_backup(target, archive)
        restored = make_engine(target.resolved_database_url)
        try:
            assert fingerprint(restored) == fingerprint(engine)  # rows and values, every table
            with make_session_factory(restored)() as session:
                assert session.scalar(select(func.count()).select_from(Message)) == 5
                assert {t.id for t in session.scalars(select(Ticket))} == {t.id for t in made}
        finally:
            restored.dispose()
        assert files_under(target.attachments_dir) == files_under(settings.attachments_dir)
        assert files_under(target.attachments_dir)[f"{picture[:2]}/{picture}"].startswith(
            b"\x89PNG"
        )
    assert report.rows == sum(manifest.tables.values())


def test_a_target_with_rows_or_files_is_refused_untouched(db, settings, tmp_path):
    make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu.tar.gz"
    make_backup(settings, archive)
    with fresh_target(settings, tmp_path) as target:
        restore_backup(target, archive)
        engine = make_engine(target.resolved_database_url)
        try:
            with make_session_factory(engine)() as session:
                factories.make_ticket(session, text="恢复之后的新工单")
            before = fingerprint(engine), files_under(target.attachments_dir)
            with pytest.raises(BackupError) as refused:
                restore_backup(target, archive)
            assert refused.value.exit_code == EXIT_NOT_EMPTY
            assert "messages" in str(refused.value) and "未做任何改动" in str(refused.value)
            assert (fingerprint(engine), files_under(target.attachments_dir)) == before
        finally:
            engine.dispose()


def test_files_in_the_attachments_folder_alone_refuse_the_restore(db, settings, tmp_path):
    make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu.tar.gz"
    make_backup(settings, archive)
    with fresh_target(settings, tmp_path) as target:
        stray = target.attachments_dir / "ab" / "abcdef"
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"left over")
        with pytest.raises(BackupError) as refused:
            restore_backup(target, archive)
        assert refused.value.exit_code == EXIT_NOT_EMPTY
        assert files_under(target.attachments_dir) == {"ab/abcdef": b"left over"}
        assert _tables_of(target) == []


def _tables_of(target) -> list[str]:
    engine = make_engine(target.resolved_database_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _flip_attachment(name: str, data: bytes) -> bytes:
    """Every attachment's last byte changed (folders and empty files have none to change)."""
    return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("attachments/") and data else data


def _other_kind(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    body = json.loads(data)
    body["database_kind"] = "postgresql" if body["database_kind"] == "sqlite" else "sqlite"
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("damage", "code", "words"),
    [
        ("changed attachment", EXIT_BAD_ARCHIVE, "内容与清单不符"),
        ("cut short", EXIT_BAD_ARCHIVE, "不是完整的备份归档"),
        ("not an archive", EXIT_BAD_ARCHIVE, "不是完整的备份归档"),
        ("extra member", EXIT_BAD_ARCHIVE, "不应出现的条目"),
        ("other database kind", EXIT_WRONG_KIND, "同一种数据库"),
    ],
)
def test_a_damaged_archive_is_refused_untouched(db, settings, tmp_path, damage, code, words):
    make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu.tar.gz"
    make_backup(settings, archive)
    bad = tmp_path / "bad.tar.gz"
    if damage == "changed attachment":
        _rewrite(archive, bad, _flip_attachment)
    elif damage == "cut short":
        raw = gzip.decompress(archive.read_bytes())
        bad.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    elif damage == "not an archive":
        bad.write_bytes(b"these are not the bytes you are looking for")
    elif damage == "extra member":
        plain = tmp_path / "plain.tar"
        plain.write_bytes(gzip.decompress(archive.read_bytes()))
        with tarfile.open(plain, "a") as tar:  # after the manifest: a path out of the folder
            info = tarfile.TarInfo("attachments/../../evil")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        bad.write_bytes(gzip.compress(plain.read_bytes()))
    else:
        _rewrite(archive, bad, _other_kind)
    with fresh_target(settings, tmp_path) as target:
        with pytest.raises(BackupError) as refused:
            restore_backup(target, bad)
        assert refused.value.exit_code == code
        assert words in str(refused.value)
        assert files_under(target.attachments_dir) == {}
        assert _tables_of(target) == []


def test_the_archive_is_never_written_over_nor_left_half_written(db, settings, tmp_path):
    archive = tmp_path / "kefu.tar.gz"
    archive.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="已存在"):
        make_backup(settings, archive)
    assert archive.read_bytes() == b"an older backup"
    with pytest.raises(BackupError, match="目录不存在"):
        make_backup(settings, tmp_path / "no-such-folder" / "kefu.tar.gz")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        if not _writable(locked):  # root writes anywhere
            with pytest.raises(BackupError, match="没有写入权限"):
                make_backup(settings, locked / "kefu.tar.gz")
    finally:
        locked.chmod(0o700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kefu.tar.gz", "locked"]


def _writable(folder: Path) -> bool:
    try:
        (folder / "probe").write_bytes(b"")
    except PermissionError:
        return False
    (folder / "probe").unlink()
    return True


@pytest.mark.sqlite_only
def test_sqlite_backup_beside_an_open_write_transaction(db, settings, tmp_path):
    subject = factories.make_ticket(db).subject
    path = sqlite_backup.database_path(settings.resolved_database_url)
    # A writer in the middle of its transaction: the snapshot neither waits for it nor sees it.
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE tickets SET subject = '写了一半的修改'")
        manifest = make_backup(settings, tmp_path / "during-a-write.tar.gz")
        writer.execute("COMMIT")
    assert manifest.tables["tickets"] == 1
    with tarfile.open(tmp_path / "during-a-write.tar.gz") as tar:
        tar.extract("database/kefu.sqlite3", tmp_path / "copy")
    with closing(sqlite3.connect(tmp_path / "copy" / "database" / "kefu.sqlite3")) as copy:
        assert copy.execute("SELECT subject FROM tickets").fetchall() == [(subject,)]


def test_backup_while_another_connection_commits(db, engine, settings, tmp_path):
    """Writers commit ticket after ticket all through the backup: the archive is one moment of
    them, its counts those of the dump (the restore checks them)."""
    factories.make_ticket(db)
    stop, written, failures = threading.Event(), [], []

    def write() -> None:
        session = make_session_factory(engine)()
        try:
            while not stop.is_set():
                written.append(factories.make_ticket(session, text="备份进行时来的新消息").id)
        except Exception as e:  # noqa: BLE001 - reported by the test
            failures.append(e)
        finally:
            session.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 5 and not failures:
            stop.wait(0.01)
        manifest = make_backup(settings, tmp_path / "while-writing.tar.gz")
        stop.wait(0.2)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert len(written) + 1 > manifest.tables["tickets"] >= 6  # a moment within the writes
    with fresh_target(settings, tmp_path) as target:
        restore_backup(target, tmp_path / "while-writing.tar.gz")  # the counts are checked in it
        restored = make_engine(target.resolved_database_url)
        try:
            assert fingerprint(restored)["tickets"][0] == manifest.tables["tickets"]
        finally:
            restored.dispose()
        if target.is_sqlite:
            with closing(sqlite3.connect(sqlite_backup.database_path(target.database_url))) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert copy.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_schema_without_rows_counts_as_empty(db, engine, settings, tmp_path):
    make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu.tar.gz"
    make_backup(settings, archive)
    with fresh_target(settings, tmp_path) as target:
        migrate.upgrade(target.resolved_database_url)  # the starter library's rows, then none
        schema_only = make_engine(target.resolved_database_url)
        try:
            with schema_only.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
            restore_backup(target, archive)
            assert fingerprint(schema_only) == fingerprint(engine)
        finally:
            schema_only.dispose()
