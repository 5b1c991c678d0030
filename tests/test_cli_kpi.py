"""``kefu kpi status|refresh|rebuild`` and ``kefu demo-feedback`` over the hand-worked day."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models.analytics import kpi_case_facts, kpi_daily, kpi_stale
from tests.services.analytics import scenario

runner = CliRunner()


def test_status_refresh_and_rebuild(db, cli_env):
    scenario.build(db)
    db.commit()
    status = runner.invoke(app, ["kpi", "status"])
    assert status.exit_code == 0, status.output
    assert status.stdout.startswith("pending 6,") or status.stdout.startswith("pending 6 ")
    refreshed = runner.invoke(app, ["kpi", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stdout.startswith("cases 6,")
    assert runner.invoke(app, ["kpi", "status"]).stdout.strip() == "pending 0, oldest change -"
    rebuilt = runner.invoke(app, ["kpi", "rebuild", "--batch", "100"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "6 cases rolled up" in rebuilt.stdout
    db.commit()
    assert db.scalar(select(func.count()).select_from(kpi_case_facts)) == 6
    assert db.scalar(select(func.sum(kpi_daily.c.cases))) == 6
    assert db.scalar(select(func.count()).select_from(kpi_stale)) == 0


def test_demo_feedback_on_a_database_without_history(db, cli_env):
    result = runner.invoke(app, ["demo-feedback", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [  # nothing answered, nothing resolved
        "SLA records: 0",
        "closed 0, surveys 0, follow_ups 0",
    ]
