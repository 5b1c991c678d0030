"""``kefu scripts import`` / ``export`` and the starter library after ``kefu db upgrade``."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import Script

runner = CliRunner()
TEAM = """\
version: 1
scenarios:
  - type: praise
    name: 表扬致谢
    scripts:
      - key: team.thanks
        title: 谢谢
        body: 谢谢[客户称呼]的认可！
"""


def test_upgrade_loads_the_starter_library_once(cli_env, db):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    count = db.scalar(select(func.count()).select_from(Script))
    assert count > 40
    db.rollback()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert db.scalar(select(func.count()).select_from(Script)) == count


def test_import_then_export(cli_env, db, tmp_path):
    good, bad = tmp_path / "team.yaml", tmp_path / "bad.yaml"
    good.write_text(TEAM, encoding="utf-8")
    bad.write_text(TEAM.replace("type: praise", "type: joy"), encoding="utf-8")
    refused = runner.invoke(app, ["scripts", "import", str(bad)])
    assert refused.exit_code == 1
    assert f"{bad}:3: scenarios.0.type:" in refused.output
    assert db.scalar(select(func.count()).select_from(Script)) == 0
    done = runner.invoke(app, ["scripts", "import", str(good)])
    assert done.exit_code == 0, done.output
    assert "scripts created 1" in done.output
    exported = runner.invoke(app, ["scripts", "export"])
    assert "key: team.thanks" in exported.output and "谢谢[客户称呼]的认可！" in exported.output
