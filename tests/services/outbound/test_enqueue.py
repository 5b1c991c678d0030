"""Queueing replies: in the message's transaction, only for channels that send, never a note."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from kefu.db.models import Message, OutboxEntry
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.intake import integrations
from kefu.services.outbound import wake
from tests import factories


def _rows(db) -> list[OutboxEntry]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def test_a_reply_on_an_api_case_is_queued_for_the_integration_that_delivered_it(db, quiet_relays):
    integration = factories.make_callback_integration(db, "https://shop.example.cn/kefu")
    ticket = factories.make_api_conversation(db, integration, sender="buyer-7")

    reply = factories.make_reply(db, ticket)

    [row] = _rows(db)
    assert (row.message_id, row.ticket_id, row.channel, row.state, row.attempts) == (
        reply.id, ticket.id, "api", "queued", 0,
    )  # fmt: skip
    inbound = db.scalar(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "inbound")
    )
    assert row.target == {
        "integration_id": integration.id,
        "in_reply_to": inbound.external_id,
        "customer_external_id": "buyer-7",
    }
    assert row.idempotency_key.startswith(f"kefu-{reply.id}-")
    assert row.next_attempt_at == reply.created_at
    assert db.get(Message, reply.id).delivery_state == "queued"


def test_each_reply_gets_its_own_key(db, quiet_relays):
    integration = factories.make_callback_integration(db, "https://shop.example.cn/kefu")
    ticket = factories.make_api_conversation(db, integration)
    factories.make_reply(db, ticket, "第一条")
    factories.make_reply(db, ticket, "第二条")
    keys = [row.idempotency_key for row in _rows(db)]
    assert len(set(keys)) == 2


def test_notes_and_channels_that_send_nothing_queue_nothing(db, quiet_relays):
    integration = factories.make_callback_integration(db, "https://shop.example.cn/kefu")
    api_ticket = factories.make_api_conversation(db, integration)
    locked = tickets.access_ticket(db, SYSTEM, api_ticket.id, for_update=True)
    note = tickets.do_add_message(db, SYSTEM, locked, text="内部：已联系仓库", internal=True)
    db.commit()
    phone = factories.make_ticket(db, channel="phone")
    reply = factories.make_reply(db, phone)

    assert _rows(db) == []
    assert db.get(Message, note.id).delivery_state is None
    assert db.get(Message, reply.id).delivery_state is None


def test_an_integration_without_a_callback_or_revoked_gets_no_row(db, quiet_relays):
    integration = factories.make_callback_integration(db, "https://shop.example.cn/kefu")
    ticket = factories.make_api_conversation(db, integration)
    integrations.do_update_integration(
        db, SYSTEM, integration, {"callback_url": None}, secret_key=factories.SECRET_KEY
    )
    db.commit()
    factories.make_reply(db, ticket)
    other = factories.make_callback_integration(db, "https://other.example.cn/kefu")
    revoked = factories.make_api_conversation(db, other)
    integrations.do_revoke_integration(db, SYSTEM, other)
    db.commit()
    factories.make_reply(db, revoked)

    assert _rows(db) == []


def test_the_last_integration_to_deliver_a_customer_message_gets_the_reply(db, quiet_relays):
    first = factories.make_callback_integration(db, "https://first.example.cn/kefu")
    second = factories.make_callback_integration(db, "https://second.example.cn/kefu")
    ticket = factories.make_api_conversation(db, first, sender="buyer-1")
    factories.make_api_conversation(db, second, sender="buyer-1")  # the same open case
    factories.make_reply(db, ticket)
    [row] = _rows(db)
    assert row.target["integration_id"] == second.id


def test_a_webchat_reply_is_queued_for_the_visitor(db, quiet_relays):
    ticket = factories.make_ticket(db, channel="webchat")
    factories.make_reply(db, ticket)
    [row] = _rows(db)
    assert row.channel == "webchat"
    assert row.target == {"customer_id": ticket.customer_id, "webchat_channel_id": None}


def test_a_rolled_back_reply_leaves_no_row_and_wakes_nobody(db, quiet_relays):
    integration = factories.make_callback_integration(db, "https://shop.example.cn/kefu")
    ticket = factories.make_api_conversation(db, integration)
    bell = threading.Event()
    wake.LOCAL.add(bell)
    try:
        locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
        tickets.do_add_message(db, SYSTEM, locked, text="草稿", internal=False)
        db.rollback()
        assert not bell.is_set()
        assert db.scalar(select(func.count()).select_from(OutboxEntry)) == 0

        factories.make_reply(db, ticket)  # committed: the relays of this process hear of it
        assert bell.is_set()
    finally:
        wake.LOCAL.discard(bell)


def test_a_reply_on_another_channel_of_the_customer_is_queued_for_that_channel(db, quiet_relays):
    customer = factories.make_customer(db, identities=[("webchat", "visitor-42")])
    ticket = factories.make_ticket(db, customer=customer, channel="email")
    assert tickets.reply_channels(db, ticket) == ["email", "webchat"]
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    reply = tickets.do_add_message(
        db, SYSTEM, locked, text="您好，网页聊天里回复您", internal=False, channel="webchat"
    )
    note = tickets.do_add_message(db, SYSTEM, locked, text="备注", internal=True, channel="webchat")
    db.commit()
    [row] = _rows(db)
    assert (row.message_id, row.channel) == (reply.id, "webchat")
    assert row.target == {"customer_id": customer.id, "webchat_channel_id": None}
    assert db.get(Message, reply.id).channel == "webchat"
    assert db.get(Message, note.id).channel == "email"  # a note stays on the case


def test_a_chat_can_be_continued_by_e_mail_when_the_profile_has_an_address(db, quiet_relays):
    customer = factories.make_customer(db, email="li@example.com")
    ticket = factories.make_ticket(db, customer=customer, channel="webchat")
    assert tickets.reply_channels(db, ticket) == ["webchat", "email"]
    bare = factories.make_ticket(db, channel="webchat")
    assert tickets.reply_channels(db, bare) == ["webchat"]


def test_a_channel_the_customer_is_not_on_is_refused(db, quiet_relays):
    ticket = factories.make_ticket(db, channel="email")
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    with pytest.raises(KefuError) as refused:
        tickets.do_add_message(db, SYSTEM, locked, text="你好", internal=False, channel="wechat")
    assert (refused.value.code, refused.value.status_code) == ("channel_unreachable", 422)
    db.rollback()
    assert _rows(db) == []
