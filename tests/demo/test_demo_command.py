"""``kefu demo`` (what ``make demo`` runs): the demo data, the demo shop's web chat channel, and
the shop's address printed for the newcomer; with ``--tickets``, synthetic history on top."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import Group, Message, Survey, Ticket, WebchatChannel
from kefu.db.models.analytics import kpi_case_facts, kpi_stale
from kefu.demo.webchat import DEMO_CHANNEL_KEY


@pytest.mark.sqlite_only  # `make demo` is the embedded database's; the loader runs on both
def test_kefu_demo_prints_the_shop_and_makes_its_channel(cli_env, db, server):
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/demo/shop" in result.stdout

    channel = db.scalar(select(WebchatChannel).where(WebchatChannel.key == DEMO_CHANNEL_KEY))
    assert channel is not None
    assert channel.allowed_origins == []  # kefu's own pages, at whatever address it is reached
    assert db.scalar(select(Group.name).where(Group.id == channel.group_id)) == "售后组"
    assert httpx.get(f"{server}/demo/shop").status_code == 200

    again = CliRunner().invoke(app, ["demo", "--no-serve", "--port", "8123"])
    assert again.exit_code == 0, again.output
    assert db.scalars(select(WebchatChannel.key)).all() == [DEMO_CHANNEL_KEY]


def test_kefu_demo_tickets_adds_synthetic_history_without_serving(cli_env, db, demo_team):
    result = CliRunner().invoke(
        app, ["demo", "--tickets", "40", "--messages-per-ticket", "6", "--seed", "3", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.stdout
    assert db.scalar(select(func.count()).select_from(Ticket)) == 40
    assert 3 * 40 <= db.scalar(select(func.count()).select_from(Message)) <= 9 * 40
    newest = db.scalar(select(func.max(Ticket.created_at)))
    assert datetime.now(UTC) - newest < timedelta(days=3)
    # then the feedback phase and the KPI rollup, over the same history
    assert "Surveys, follow-ups and auto-closes" in result.stdout
    assert db.scalar(select(func.count()).select_from(Survey)) > 0
    assert db.scalar(select(func.count()).select_from(kpi_case_facts)) == 40
    assert db.scalar(select(func.count()).select_from(kpi_stale)) == 0
