"""The web chat adapter: a send is a ``VisitorMessage``, with what the visitor is shown, on the
bus, answered SENT."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.channels.base import AttachmentRef, DeliveryFailed, OutboundDelivery
from kefu.channels.webchat import WebchatAdapter
from kefu.domain.delivery import DeliveryState
from kefu.domain.events import Event, VisitorMessage


def _delivery(**target) -> OutboundDelivery:
    return OutboundDelivery(
        outbox_id=7, idempotency_key="kefu-11-ab", channel="webchat", kind="message",
        target=target, ticket_id=3, message_id=11, text="您好", author_name="王客服",
        author_type="user", created_at=AT, attachments=(AttachmentRef(4, "单据.pdf", "application/pdf", 99),),
    )  # fmt: skip


AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_a_send_tells_the_visitors_sockets_and_answers_sent():
    published: list[Event] = []
    adapter = WebchatAdapter(published.extend)
    result = adapter.send(_delivery(customer_id=5, webchat_channel_id=2))
    assert result.state == DeliveryState.SENT and result.external_ref == "11"
    assert published == [
        VisitorMessage(
            3, customer_id=5, message_id=11, outbox_id=7, author_type="user",
            author_name="王客服", text="您好", created_at=AT,
            attachments=((4, "单据.pdf", "application/pdf", 99),),
        )
    ]  # fmt: skip
    assert adapter.channel == "webchat"


def test_a_delivery_without_a_visitor_is_refused_for_good():
    with pytest.raises(DeliveryFailed) as refused:
        WebchatAdapter(lambda events: None).send(_delivery(webchat_channel_id=2))
    assert refused.value.permanent
