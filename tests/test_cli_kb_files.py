"""``kefu kb import DIR`` / ``kefu kb export DIR``: the folder round trip, and a broken folder."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import KbArticle

runner = CliRunner()
DEMO_KB = Path(__file__).parents[1] / "src" / "kefu" / "demo" / "data" / "kb"


def test_import_then_export_gives_the_same_files(cli_env, db, tmp_path):
    imported = runner.invoke(app, ["kb", "import", str(DEMO_KB)])
    assert imported.exit_code == 0, imported.output
    assert "created 60, updated 0, unchanged 0" in imported.output
    exported = runner.invoke(app, ["kb", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    written = sorted((tmp_path / "out").glob("*.md"))
    assert len(written) == 60
    again = runner.invoke(app, ["kb", "import", str(tmp_path / "out")])
    assert "created 0, updated 0, unchanged 60" in again.output


def test_a_broken_folder_imports_nothing_and_names_each_problem(cli_env, db, tmp_path):
    (tmp_path / "good.md").write_text("---\nid: a\ntitle: 好\n---\n正文\n", "utf-8")
    (tmp_path / "bad.md").write_text("no front matter", "utf-8")
    (tmp_path / "worse.md").write_text("---\nid: b\n---\n正文\n", "utf-8")
    answer = runner.invoke(app, ["kb", "import", str(tmp_path)])
    assert answer.exit_code == 1
    assert "bad.md: the file does not start with front matter" in answer.output
    assert "worse.md: title is missing" in answer.output
    assert db.scalar(select(func.count()).select_from(KbArticle)) == 0
