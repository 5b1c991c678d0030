"""``kefu backup PATH`` and ``kefu restore PATH``: what they print and their exit codes."""

from __future__ import annotations

from typer.testing import CliRunner

from kefu.cli import app
from kefu.services.backups.manifest import EXIT_BAD_ARCHIVE, EXIT_FAILED, EXIT_NOT_EMPTY
from kefu.settings import get_settings
from tests.backup_targets import files_under, fresh_target, make_cases_with_attachment

runner = CliRunner()


def test_backup_then_restore_into_a_fresh_place(db, settings, cli_env, tmp_path, monkeypatch):
    make_cases_with_attachment(db, settings)
    archive = tmp_path / "kefu-backup.tar.gz"

    made = runner.invoke(app, ["backup", str(archive)])

    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"已备份到 {archive}")
    assert "sqlite 数据库" in made.stdout or "postgresql 数据库" in made.stdout
    refused = runner.invoke(app, ["restore", str(archive)])  # the configured database has rows
    assert refused.exit_code == EXIT_NOT_EMPTY
    assert "恢复的目标必须是空的" in refused.output
    with fresh_target(settings, tmp_path) as target:
        monkeypatch.setenv("KEFU_DATABASE_URL", target.resolved_database_url)
        monkeypatch.setenv("KEFU_DATA_DIR", str(target.data_dir))
        get_settings.cache_clear()
        restored = runner.invoke(app, ["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "行数与文件校验均一致" in restored.stdout
        assert files_under(target.attachments_dir) == files_under(settings.attachments_dir)
        get_settings.cache_clear()


def test_clear_errors_for_a_bad_path_or_archive(settings, cli_env, tmp_path):
    missing = runner.invoke(app, ["backup", str(tmp_path / "nowhere" / "kefu.tar.gz")])
    assert missing.exit_code == EXIT_FAILED
    assert "备份失败：目录不存在" in missing.output
    not_there = runner.invoke(app, ["restore", str(tmp_path / "nothing.tar.gz")])
    assert not_there.exit_code == EXIT_FAILED
    assert "备份文件不存在" in not_there.output
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x1f\x8b not really gzip")
    corrupt = runner.invoke(app, ["restore", str(garbage)])
    assert corrupt.exit_code == EXIT_BAD_ARCHIVE
    assert "恢复失败：不是完整的备份归档" in corrupt.output
