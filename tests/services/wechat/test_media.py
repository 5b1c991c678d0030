"""A customer's picture fetched after the callback: stored on its message, tried again with a
growing delay while WeChat fails, given up on after the last attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.channels.wechat.adapter import WechatAccounts
from kefu.db.engine import make_session_factory
from kefu.db.models import Attachment, Message, WechatMedia
from kefu.services.wechat import media
from tests import factories
from tests.fake_wechat import FakeWechat
from tests.wechat_peer import APP_ID, APP_SECRET, make_account


@pytest.fixture
def fake():
    with FakeWechat(app_id=APP_ID, app_secret=APP_SECRET) as running:
        yield running


def test_failures_are_tried_again_later_then_given_up(db, engine, settings, fake):
    account = make_account(db, settings.secret_key, api_base_url=fake.url)
    ticket = factories.make_ticket(db, channel="wechat")
    message = db.scalar(select(Message).where(Message.ticket_id == ticket.id))
    message.external_id = f"{account.id}:42"
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    db.add(
        WechatMedia(
            account_id=account.id,
            external_id=f"{account.id}:42",
            media_id="PIC",
            kind="image",
            attempts=0,
            next_attempt_at=now,
        )
    )
    db.commit()
    sessions = make_session_factory(engine)
    accounts = WechatAccounts(sessions, settings.secret_key)
    storage = media.Storage(settings.attachments_dir, settings.max_attachment_bytes)
    clock = [now]

    def run() -> dict[str, int]:
        return media.fetch_due(sessions, accounts, storage, lambda: clock[0])

    assert run() == {"fetched": 0, "failed": 1, "gave_up": 0}  # WeChat has no such media yet
    assert run() == {"fetched": 0, "failed": 0, "gave_up": 0}  # not due again yet
    db.rollback()  # what the fetcher committed
    row = db.scalar(select(WechatMedia))
    assert row.next_attempt_at > now and "40007" in row.error

    fake.media["PIC"] = (b"\x89PNG\r\n\x1a\n picture", "image/png")
    clock[0] = row.next_attempt_at + timedelta(seconds=1)
    assert run() == {"fetched": 1, "failed": 0, "gave_up": 0}
    db.rollback()
    attachment = db.scalar(select(Attachment))
    assert attachment.message_id == message.id and attachment.filename == "MEDIA.jpg"

    db.add(
        WechatMedia(
            account_id=account.id,
            external_id=f"{account.id}:43",
            media_id="GONE",
            kind="voice",
            attempts=media.MAX_ATTEMPTS - 1,
            next_attempt_at=clock[0],
        )
    )
    db.commit()
    assert run() == {"fetched": 0, "failed": 0, "gave_up": 1}

    fake.media["BIG"] = (b"\xff\xd8" + b"x" * 100, "image/jpeg")
    db.add(
        WechatMedia(
            account_id=account.id,
            external_id=f"{account.id}:44",
            media_id="BIG",
            kind="image",
            attempts=0,
            next_attempt_at=clock[0],
        )
    )
    db.commit()
    small = media.Storage(settings.attachments_dir, 50)
    assert media.fetch_due(sessions, accounts, small, lambda: clock[0]) == {
        "fetched": 0,
        "failed": 0,
        "gave_up": 1,
    }
    db.rollback()
    big = db.scalar(select(WechatMedia).where(WechatMedia.media_id == "BIG"))
    assert "larger than 50 bytes" in big.error  # read no further than the limit, not tried again
    accounts.close()
