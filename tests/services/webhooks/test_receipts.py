"""Receipts of taken webhook events are kept for RECEIPT_DAYS, then forgotten by their job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import WebhookReceipt, WebhookSource
from kefu.services.webhooks.inbound import RECEIPT_DAYS, forget_old_receipts


def test_receipts_older_than_the_window_are_forgotten(db):
    source = WebhookSource(key="sms-gw", name="短信", kinds=["sms.received"], secret_sealed="v1:x")
    db.add(source)
    db.flush()
    now = utcnow()
    for webhook_id, age in (("old", RECEIPT_DAYS + 1), ("recent", RECEIPT_DAYS - 1)):
        db.add(WebhookReceipt(source_id=source.id, webhook_id=webhook_id, event_type="sms.received",
                              received_at=now - timedelta(days=age)))  # fmt: skip
    db.commit()
    assert forget_old_receipts(db, now) == 1
    db.commit()
    assert db.scalars(select(WebhookReceipt.webhook_id)).all() == ["recent"]
