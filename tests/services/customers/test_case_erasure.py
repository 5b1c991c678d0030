"""Erasure reaches what the customer's cases keep beside their messages: the case file's words,
text fields, the shop's order answer, queued deliveries (cancelled, never sent), sent ones' copies,
QA evidence, the bot's memory, notifications and acknowledgement addresses — figures kept."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import (
    AuditEvent,
    BotConversation,
    MailAcknowledgement,
    Message,
    Notification,
    OutboxEntry,
    QaReview,
    Ticket,
    TicketField,
)
from kefu.domain.roles import Role
from kefu.services.actors import Actor
from kefu.services.customers import personal_data
from kefu.services.customers.personal_data import ERASED
from tests import factories

PHONE = "13987654321"
EMAIL = "wang.fang@example.cn"
ADMIN = Actor(user_id=901, role=Role.ADMIN, via="session", name="管理员")


def test_the_cases_other_records_are_scrubbed_and_queued_deliveries_never_go(
    db: Session, tmp_path: Path
):
    agent = factories.make_user(db, role="agent")
    customer = factories.make_customer(db, name="王芳", email=EMAIL, phone=PHONE)
    ticket = factories.make_ticket(db, customer=customer, text=f"电话{PHONE}，包裹丢了")
    bystander = factories.make_ticket(db, text="别人的包裹也丢了")
    reply = factories.make_reply(db, ticket, "王女士您好，我们会尽快与您联系。")
    db.add_all([
        TicketField(key="address", label="地址", type="text"),
        TicketField(key="region", label="地区", type="choice", options=["华北", "华东"]),
    ])  # fmt: skip
    ticket.fields = {"address": "朝阳区幸福路 8 号", "region": "华北", "order_no": "SO-778899"}
    ticket.order_lookup = {"order_no": "SO-778899", "state": "ok", "fetched_at": "2026-12-07T10:00:00",
                           "order": {"recipient": "王芳", "phone": PHONE, "total": 12900}}  # fmt: skip
    ticket.case_file = {
        "facts": f"客户王芳（{PHONE}）称包裹丢失",
        "category_confirmed": True,
        "compensation": {"kind": "coupon", "amount": 2000, "proposed_by": "agent",
                         "approved_by": "supervisor", "comment": "王女士接受"},
        "rating": 4,
    }  # fmt: skip
    queued = OutboxEntry(ticket_id=ticket.id, message_id=reply.id, channel="email", kind="message",
                         idempotency_key="erase-queued",
                         target={"to": [EMAIL], "subject": "关于您的包裹", "text": reply.body_text})  # fmt: skip
    sent = OutboxEntry(ticket_id=ticket.id, channel="webhook", kind="event", state="sent",
                       idempotency_key="erase-sent", sent_at=utcnow(),
                       target={"url": "https://crm.example.cn/hook", "body": {"phone": PHONE}})  # fmt: skip
    others = OutboxEntry(ticket_id=bystander.id, channel="email", kind="message",
                         idempotency_key="erase-other", target={"to": ["other@example.cn"]})  # fmt: skip
    db.add_all([queued, sent, others])
    db.add(QaReview(ticket_id=ticket.id, agent_id=agent.id, scorecard_version=1, total=60.0,
                    results=[{"criterion": "privacy", "verdict": "fail",
                              "explanation": "回复中出现完整手机号。",
                              "evidence": [{"turn": 1, "start": 6, "end": 17, "text": PHONE,
                                            "message_id": reply.id}]}]))  # fmt: skip
    db.add(BotConversation(ticket_id=ticket.id, channel="webchat",
                           state={"contact": PHONE, "asked": 2}))  # fmt: skip
    db.add(Notification(user_id=agent.id, ticket_id=ticket.id, kind="sla.warn",
                        body=f"王芳（{PHONE}）的工单快超时了"))  # fmt: skip
    db.add(MailAcknowledgement(address=EMAIL, ticket_id=ticket.id))
    db.commit()

    personal_data.do_erase_customer(
        db, ADMIN, customer.id, reason="客户书面申请删除", attachments_root=tmp_path
    )
    db.commit()
    db.expire_all()

    kept = db.get(Ticket, ticket.id)
    assert kept is not None
    assert kept.fields == {"address": ERASED, "region": "华北", "order_no": ERASED}
    assert kept.order_lookup == {"order_no": ERASED, "state": "ok", "fetched_at": "2026-12-07T10:00:00",
                                 "order": {"recipient": ERASED, "phone": ERASED, "total": 12900}}  # fmt: skip
    assert kept.case_file == {
        "facts": ERASED,
        "category_confirmed": True,
        "compensation": {"kind": "coupon", "amount": 2000, "proposed_by": "agent",
                         "approved_by": "supervisor", "comment": ERASED},
        "rating": 4,
    }  # fmt: skip
    cancelled = db.scalar(select(OutboxEntry).where(OutboxEntry.idempotency_key == "erase-queued"))
    assert cancelled is not None
    assert (cancelled.state, cancelled.last_error) == ("dead", "customer_erased")
    assert db.get(Message, reply.id).delivery_state == "dead"  # type: ignore[union-attr]
    assert cancelled.target == {"to": [ERASED], "subject": ERASED, "text": ERASED}
    went = db.scalar(select(OutboxEntry).where(OutboxEntry.idempotency_key == "erase-sent"))
    assert went is not None and went.state == "sent"
    assert went.target == {"url": "https://crm.example.cn/hook", "body": {"phone": ERASED}}
    other = db.scalar(select(OutboxEntry).where(OutboxEntry.idempotency_key == "erase-other"))
    assert other is not None and (other.state, other.target) == (
        "queued",
        {"to": ["other@example.cn"]},
    )
    review = db.scalar(select(QaReview))
    assert review is not None and review.total == 60.0
    assert (
        review.results[0]["verdict"] == "fail"
        and review.results[0]["evidence"][0]["text"] == ERASED
    )
    assert review.results[0]["explanation"] == "回复中出现完整手机号。"
    bot = db.scalar(select(BotConversation))
    assert bot is not None and bot.state == {"contact": ERASED, "asked": 2}
    assert db.scalar(select(Notification.body)) == ERASED
    assert db.scalar(select(MailAcknowledgement.address)) == ERASED

    rows = [kept.fields, kept.order_lookup, kept.case_file, cancelled.target, went.target,
            review.results, bot.state, db.scalars(select(Notification.body)).all()]  # fmt: skip
    assert PHONE not in json.dumps(rows, ensure_ascii=False)
    [erase] = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erase")).all()
    assert erase.after is not None and erase.after["records"]["deliveries_cancelled"] == 1
