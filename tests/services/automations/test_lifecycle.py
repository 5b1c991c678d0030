"""Lifecycle automations on the test database: auto-close, nudge then close, a customer's
message cancelling them, complaints left to their steps, audit as the system, two runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kefu.db.models import AuditEvent, Message, OutboxEntry, Ticket
from kefu.domain.case_loop import Stage
from kefu.services.actors import SYSTEM
from kefu.services.automations.lifecycle import NUDGE_EN, NUDGE_ZH
from kefu.services.automations.state import close_due
from kefu.services.cases import tickets
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from tests import factories
from tests.services.automations.conftest import POLICY, sweep

NO_FILES = {"attachments_root": Path("/nonexistent"), "max_attachment_bytes": 0}


def _set_status(db, ticket, status):
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": status})
    db.commit()
    db.refresh(ticket)


def _system_audit(db, ticket_id, action):
    query = select(AuditEvent).where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == action)
    return list(db.scalars(query.order_by(AuditEvent.id)))


def test_a_resolved_case_closes_by_itself_after_the_delay(engine, db):
    ticket = factories.make_ticket(db, channel="webchat")
    _set_status(db, ticket, "resolved")
    assert close_due(ticket, POLICY) == ticket.resolved_at + timedelta(hours=72)
    assert ticket.auto_due_at == ticket.resolved_at + timedelta(hours=72)  # the column swept

    assert sweep(engine, ticket.resolved_at + timedelta(hours=71), db).closed == 0
    report = sweep(engine, ticket.resolved_at + timedelta(hours=72), db)
    db.refresh(ticket)
    assert report.closed == 1 and ticket.status == "closed" and ticket.stage == Stage.CLOSED
    (step,) = _system_audit(db, ticket.id, "automation.lifecycle")
    assert step.actor_type == "system" and step.after == {"step": "auto:close_resolved"}
    (update,) = _system_audit(db, ticket.id, "ticket.update")[-1:]
    assert update.actor_type == "system" and update.after["status"] == "closed"


def test_a_complaint_never_closes_by_itself(engine, db):
    ticket = factories.make_archived_complaint(
        db, text="快递员态度恶劣，我要投诉", facts="快递员辱骂", category="物流",
        cause="培训不足", solution="道歉并补偿", lesson="加强培训",
    )  # fmt: skip
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": "open"})  # reopened by staff
    db.commit()
    db.refresh(ticket)
    assert close_due(ticket, POLICY) is None and ticket.auto_due_at is None
    assert sweep(engine, ticket.created_at + timedelta(days=30), db).closed == 0
    db.refresh(ticket)
    assert ticket.status != "closed"


def test_a_waiting_case_is_nudged_then_closed_when_nobody_answers(engine, db):
    ticket = factories.make_ticket(db, channel="webchat")
    _set_status(db, ticket, "pending")
    since = ticket.auto_waiting_since
    assert sweep(engine, since + timedelta(hours=47), db).nudged == 0

    report = sweep(engine, since + timedelta(hours=48), db)
    assert report.nudged == 1 and report.closed == 0
    nudge = db.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.direction == "outbound")).one()  # fmt: skip
    assert nudge.body_text == NUDGE_ZH and nudge.author_type == "system"
    assert db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == nudge.id)) is not None
    db.refresh(ticket)
    assert ticket.status == "pending"  # the nudge does not end the wait

    assert sweep(engine, since + timedelta(hours=48 + 71), db).closed == 0
    assert sweep(engine, since + timedelta(hours=48 + 72), db).closed == 1
    db.refresh(ticket)
    assert ticket.status == "closed"
    steps = [e.after["step"] for e in _system_audit(db, ticket.id, "automation.lifecycle")]
    assert steps == ["auto:nudge", "auto:close_unanswered"]


def test_an_english_customer_is_nudged_in_english(engine, db):
    customer = factories.make_customer(db, language="en")
    ticket = factories.make_ticket(db, customer=customer, channel="webchat")
    _set_status(db, ticket, "pending")
    since = ticket.auto_waiting_since
    sweep(engine, since + timedelta(hours=49), db)
    texts = db.scalars(select(Message.body_text).where(Message.ticket_id == ticket.id, Message.direction == "outbound"))  # fmt: skip
    assert list(texts) == [NUDGE_EN]


def _write_in(db, external_id, text, ticket_id=None):
    message = InboundMessage("api", external_id, Sender("api-cust"), text, ticket_id=ticket_id)
    result = receive_inbound(db, SYSTEM, message, raw="{}", **NO_FILES)
    db.commit()
    return result.ticket_id


def test_the_customer_writing_cancels_the_pending_close(engine, db):
    ticket = db.get(Ticket, _write_in(db, "first-1", "我的订单还没发货，麻烦查一下"))
    _set_status(db, ticket, "pending")
    since = ticket.auto_waiting_since
    sweep(engine, since + timedelta(hours=48), db)  # nudged
    db.refresh(ticket)
    assert ticket.auto_nudged_at is not None
    _write_in(db, "later-1", "还在的，我的订单还没到", ticket.id)
    db.refresh(ticket)
    assert ticket.status == "open"

    assert sweep(engine, since + timedelta(days=30), db).closed == 0
    db.refresh(ticket)
    assert ticket.status == "open"


def test_the_sweep_is_safe_to_run_twice(engine, db):
    ticket = factories.make_ticket(db, channel="webchat")
    _set_status(db, ticket, "pending")
    at = ticket.auto_waiting_since + timedelta(hours=50)
    first, second = sweep(engine, at, db), sweep(engine, at, db)
    assert (first.nudged, second.nudged) == (1, 0)
    assert len(_system_audit(db, ticket.id, "automation.lifecycle")) == 1
