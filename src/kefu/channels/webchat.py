"""The web chat adapter: a reply "sent" to a visitor is an event their open widgets show.

The relay hands an outbox row of the web chat channel here; ``send`` publishes
``VisitorMessage``, with what the visitor is shown, on the event bus and answers SENT. Every
socket of that visitor (realtime/visitor_socket.py), in any kefu process sharing the bus, shows
it; a visitor with no socket open gets it when they come back (the widget resumes from its last
seq), so nothing is lost when nobody is listening. A repeated send of the same row (a relay
killed between sending and marking) is shown once: the widget dedupes by seq, the message id.
The widget's acknowledgements come back as receipts (``delivered`` when shown, ``read`` when
seen: services/webchat/receipts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kefu.channels.base import DeliveryFailed, OutboundDelivery, SendResult
from kefu.domain.delivery import DeliveryState
from kefu.domain.events import Event, VisitorMessage
from kefu.domain.tickets import Channel


class WebchatAdapter:
    channel = Channel.WEBCHAT.value

    def __init__(self, publish: Callable[[Sequence[Event]], None]) -> None:
        self.publish = publish  # the process's EventBus.publish

    def send(self, delivery: OutboundDelivery) -> SendResult:
        customer_id = delivery.target.get("customer_id")
        if not isinstance(customer_id, int) or delivery.message_id is None:
            raise DeliveryFailed("a web chat delivery names no visitor or message", permanent=True)
        self.publish(
            [
                VisitorMessage(
                    delivery.ticket_id,
                    customer_id=customer_id,
                    message_id=delivery.message_id,
                    outbox_id=delivery.outbox_id,
                    # A bot message goes as ids only: the visitor's socket loads it with its
                    # widget extras (the article link, the quick replies, the contact form).
                    author_type="" if delivery.author_type == "bot" else delivery.author_type,
                    author_name=delivery.author_name,
                    text=delivery.text,
                    created_at=delivery.created_at,
                    attachments=tuple(
                        (a.id, a.filename, a.content_type, a.size) for a in delivery.attachments
                    ),
                )
            ]
        )
        return SendResult(DeliveryState.SENT, external_ref=str(delivery.message_id))
