"""The PostgreSQL tools: found on the PATH or under /usr/lib/postgresql, and given the
password in their environment only."""

from __future__ import annotations

import pytest

from kefu.services.backups import postgres
from kefu.services.backups.manifest import BackupError


def test_the_password_goes_in_the_environment_not_the_arguments():
    args, env = postgres.connection_arguments(
        "postgresql+psycopg://kefu:s3cret%40pw@db.internal:5433/kefu?sslmode=require"
    )
    assert args == [
        "--host", "db.internal", "--port", "5433", "--username", "kefu", "--dbname", "kefu",
    ]  # fmt: skip
    assert not any("s3cret" in a for a in args)
    assert env["PGPASSWORD"] == "s3cret@pw"
    assert env["PGSSLMODE"] == "require"


def test_a_missing_pg_dump_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres, "TOOL_DIRS", str(tmp_path))
    with pytest.raises(BackupError, match="找不到 pg_dump"):
        postgres.find_tool("pg_dump")
    for version in ("9.6", "15", "13"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "pg_dump").write_text("")
    assert postgres.find_tool("pg_dump") == str(tmp_path / "15" / "bin" / "pg_dump")


@pytest.mark.postgresql_only
def test_a_missing_pg_dump_fails_the_backup_cleanly(monkeypatch, tmp_path, settings, engine):
    from kefu.services.backups.service import make_backup

    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres, "TOOL_DIRS", str(tmp_path / "none"))
    with pytest.raises(BackupError, match="找不到 pg_dump"):
        make_backup(settings, tmp_path / "kefu.tar.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
