"""``ensure_demo_channel``: ``kefu demo`` runs it on every start, so it must be idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from kefu.db.models import WebchatChannel
from kefu.demo.team import AFTERSALE
from kefu.demo.webchat import DEMO_CHANNEL_KEY, demo_channel, ensure_demo_channel
from tests import factories


def test_the_demo_channel_is_made_once_and_learns_new_origins(db):
    group = factories.make_group(db, name=AFTERSALE)
    channel, created = ensure_demo_channel(db, secret_key=factories.SECRET_KEY)
    db.commit()
    assert created
    assert channel.key == DEMO_CHANNEL_KEY and channel.group_id == group.id
    assert channel.enabled and channel.offline_form and channel.greeting
    assert len(factories.channel_secret(channel)) >= 32
    secret = factories.channel_secret(channel)

    assert channel.allowed_origins == []  # pages of kefu's own host: where the shop is
    again, created = ensure_demo_channel(
        db, secret_key=factories.SECRET_KEY, origins=["http://demo.test"]
    )
    db.commit()
    assert not created and again.id == channel.id and factories.channel_secret(again) == secret
    assert again.allowed_origins == ["http://demo.test"]
    assert db.scalar(select(func.count()).select_from(WebchatChannel)) == 1
    assert demo_channel(db) is not None


def test_without_the_demo_team_the_channel_routes_nowhere_in_particular(db):
    channel, _ = ensure_demo_channel(db, secret_key=factories.SECRET_KEY)
    db.commit()
    assert channel.group_id is None
