"""``kefu report``: the hand-worked day (tests/services/analytics/scenario.py) as Markdown, CSV
and XLSX."""

from __future__ import annotations

import csv
import io

import openpyxl
from typer.testing import CliRunner

from kefu.cli import app
from tests.services.analytics import scenario

runner = CliRunner()
DAY = ["--from", "2026-12-01", "--to", "2026-12-01"]


def test_report_prints_markdown_and_csv(db, cli_env):
    scenario.build(db)
    md = runner.invoke(app, ["report", *DAY])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# KPI report 2026-12-01 – 2026-12-01 (Asia/Shanghai)")
    assert "| resolution_rate | 80.0 | 4.0 | 5 | percent | 95.0 | off_target |" in md.output

    out = runner.invoke(app, ["report", *DAY, "--format", "csv", "--by", "channel"])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0][:3] == ["channel", "metric", "value"]
    assert ["email", "reopen_rate", "100.0", "1.0", "1", "percent", "5.0", "off_target"] in rows


def test_report_writes_xlsx_by_period(db, cli_env, tmp_path):
    scenario.build(db)
    target = tmp_path / "kpi.xlsx"
    got = runner.invoke(
        app, ["report", *DAY, "--format", "xlsx", "--period", "day", "--out", str(target)]
    )
    assert got.exit_code == 0, got.output
    table = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    assert table[0][:2] == ("period", "metric")
    figures = {r[1]: r for r in table[1:]}
    assert figures["escalation_rate"][:5] == ("2026-12-01", "escalation_rate", 20, 1, 5)


def test_report_refuses_xlsx_without_a_file_and_a_bad_date(cli_env):
    assert runner.invoke(app, ["report", *DAY, "--format", "xlsx"]).exit_code == 2
    assert (
        runner.invoke(app, ["report", "--from", "yesterday", "--to", "2026-12-01"]).exit_code == 2
    )
