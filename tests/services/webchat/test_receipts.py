"""Visitors' acks recorded in batches: only an agent's message of the visitor's own conversation
moves forward; anyone else's, an inbound message or an unknown seq changes nothing. The live
server's relay is paused (``quiet_relays``): the rows stay as the test leaves them."""

from __future__ import annotations

from kefu.db.models import Message, OutboxEntry
from kefu.domain.delivery import DeliveryState
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets as cases
from kefu.services.webchat.receipts import Ack, acknowledge_many
from tests import factories

DELIVERED, READ = DeliveryState.DELIVERED, DeliveryState.READ


def _chat_with_reply(db, text: str) -> tuple[int, int, int]:
    """A web chat ticket with an agent's reply queued; its customer, reply and outbox row."""
    ticket = factories.make_ticket(db, channel="webchat")
    reply = cases.do_add_message(db, SYSTEM, ticket, text=text, internal=False)
    db.commit()
    entry = db.query(OutboxEntry).filter_by(message_id=reply.id).one()
    return ticket.customer_id, reply.id, entry.id


def test_a_batch_moves_each_visitors_own_replies_forward_only(quiet_relays, db):
    mine, my_reply, my_row = _chat_with_reply(db, "您好，已为您查询")
    theirs, their_reply, their_row = _chat_with_reply(db, "另一位访客的回复")
    inbound = db.query(Message).filter(Message.direction == "inbound").first()
    acks = [
        Ack(mine, my_reply, READ),
        Ack(mine, my_reply, DELIVERED),  # late: never moves it back
        Ack(mine, their_reply, READ),  # someone else's conversation
        Ack(mine, inbound.id, READ),  # not an agent's message
        Ack(mine, 10**9, READ),  # no such message
    ]
    assert acknowledge_many(db, acks) == 2
    db.commit()
    assert db.get(OutboxEntry, my_row).state == "read"
    assert db.get(Message, my_reply).delivery_state == "read"
    assert db.get(OutboxEntry, their_row).state == "queued"
    assert acknowledge_many(db, [Ack(theirs, their_reply, DELIVERED)]) == 1
    db.commit()
    assert db.get(OutboxEntry, their_row).state == "delivered"
    assert acknowledge_many(db, []) == 0
