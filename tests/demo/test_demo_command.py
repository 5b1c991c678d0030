"""``kefu demo`` (what ``make demo`` runs): the demo data, the demo shop's web chat channel, and
the shop's address printed for the newcomer."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import Group, WebchatChannel
from kefu.demo.webchat import DEMO_CHANNEL_KEY
from kefu.settings import get_settings


@pytest.fixture
def cli_env(settings, engine, monkeypatch):
    monkeypatch.setenv("KEFU_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("KEFU_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


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
