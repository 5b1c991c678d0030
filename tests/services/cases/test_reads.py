"""Unread markers: a case is unread for a person until they open it, and again when the customer
writes after that; their own replies and notes never make it unread."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Integration, TicketRead
from kefu.services.actors import SYSTEM
from kefu.services.cases import reads, tickets
from kefu.services.intake import integrations
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from tests import factories


def _customer_writes(db: Session, integration: Integration, sender: str, text: str) -> int:
    result = receive_inbound(
        db,
        integrations.actor_for(integration),
        InboundMessage(
            channel="api", external_id=f"{sender}-{text}", sender=Sender(sender, "顾客"), text=text
        ),
        raw="{}",
        attachments_root=Path(tempfile.gettempdir()),
        max_attachment_bytes=1000,
    )
    db.commit()
    return result.ticket_id


def _integration(db: Session) -> Integration:
    factories.make_integration(db, name="商城", channels=["api"])
    return db.scalars(select(Integration)).one()


def test_a_case_is_unread_until_opened_and_again_after_a_new_customer_message(db: Session) -> None:
    agent = factories.make_user(db)
    shop = _integration(db)
    ticket_id = _customer_writes(db, shop, "buyer-1", "我的快递到哪了？")
    other_id = _customer_writes(db, shop, "buyer-2", "发票怎么开？")
    assert reads.unread_among(db, agent.id, [ticket_id, other_id]) == {ticket_id, other_id}

    first = tickets.ticket_messages(db, tickets.access_ticket(db, SYSTEM, ticket_id))[0]
    reads.mark_seen(db, agent.id, ticket_id, first.created_at)  # seen as it came
    db.commit()
    assert reads.unread_among(db, agent.id, [ticket_id, other_id]) == {other_id}

    assert _customer_writes(db, shop, "buyer-1", "还没收到，麻烦快点") == ticket_id
    assert reads.unread_among(db, agent.id, [ticket_id]) == {ticket_id}


def test_replies_and_notes_do_not_make_a_case_unread(db: Session) -> None:
    agent = factories.make_user(db)
    ticket = factories.make_ticket(db)
    first = tickets.ticket_messages(db, ticket)[0]
    reads.mark_seen(db, agent.id, ticket.id, first.created_at + timedelta(seconds=1))
    db.commit()
    factories.make_reply(db, ticket)
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_add_message(db, SYSTEM, locked, text="内部备注：已联系仓库", internal=True)
    db.commit()
    assert reads.unread_among(db, agent.id, [ticket.id]) == set()


def test_marks_are_per_person(db: Session) -> None:
    one, two = factories.make_user(db), factories.make_user(db)
    ticket = factories.make_ticket(db)
    reads.mark_seen(db, one.id, ticket.id, ticket.created_at + timedelta(seconds=1))
    db.commit()
    assert reads.unread_among(db, one.id, [ticket.id]) == set()
    assert reads.unread_among(db, two.id, [ticket.id]) == {ticket.id}


def test_marking_again_moves_the_mark_forward_only(db: Session) -> None:
    agent = factories.make_user(db)
    ticket = factories.make_ticket(db)
    later = ticket.created_at + timedelta(minutes=5)
    reads.mark_seen(db, agent.id, ticket.id, later)
    reads.mark_seen(db, agent.id, ticket.id, later - timedelta(minutes=4))  # a late, slower request
    db.commit()
    rows = db.scalars(select(TicketRead)).all()
    assert [(r.user_id, r.ticket_id, r.seen_at) for r in rows] == [(agent.id, ticket.id, later)]
    reads.mark_seen(db, agent.id, ticket.id, later + timedelta(minutes=1))
    db.commit()
    db.expire_all()
    assert db.scalars(select(TicketRead.seen_at)).one() == later + timedelta(minutes=1)


def test_no_cases_asks_nothing(db: Session) -> None:
    assert reads.unread_among(db, 1, []) == set()
