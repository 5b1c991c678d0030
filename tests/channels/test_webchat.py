"""The web chat adapter: a send is a ``VisitorMessage`` on the bus, answered SENT."""

from __future__ import annotations

import pytest

from kefu.channels.base import DeliveryFailed, OutboundDelivery
from kefu.channels.webchat import WebchatAdapter
from kefu.domain.delivery import DeliveryState
from kefu.domain.events import Event, VisitorMessage


def _delivery(**target) -> OutboundDelivery:
    return OutboundDelivery(
        outbox_id=7, idempotency_key="kefu-11-ab", channel="webchat", kind="message",
        target=target, ticket_id=3, message_id=11, text="您好",
    )  # fmt: skip


def test_a_send_tells_the_visitors_sockets_and_answers_sent():
    published: list[Event] = []
    adapter = WebchatAdapter(published.extend)
    result = adapter.send(_delivery(customer_id=5, webchat_channel_id=2))
    assert result.state == DeliveryState.SENT and result.external_ref == "11"
    assert published == [VisitorMessage(3, customer_id=5, message_id=11, outbox_id=7)]
    assert adapter.channel == "webchat"


def test_a_delivery_without_a_visitor_is_refused_for_good():
    with pytest.raises(DeliveryFailed) as refused:
        WebchatAdapter(lambda events: None).send(_delivery(webchat_channel_id=2))
    assert refused.value.permanent
