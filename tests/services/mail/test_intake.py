"""Stored mails taken in (services/mail/intake.py), on both databases: threading to the
customer's ticket, a stranger's mail with the reference kept apart, failures alerted and
re-processed, acknowledgements rate-limited, auto-replies never answered, and the thread
headers of a reply (services/mail/outbound.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import (
    Identity,
    Mailbox,
    MailThreadId,
    Message,
    Notification,
    OutboxEntry,
    Ticket,
)
from kefu.services.actors import SYSTEM
from kefu.services.mail.intake import do_reprocess
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.settings import Settings
from tests import mail_data
from tests.factories import make_reply, make_user
from tests.mail_data import take

SUPPORT = "kf@shop.test"
# The live server's relay would send this test's mail (and hold SQLite's lock meanwhile).
pytestmark = pytest.mark.usefixtures("quiet_relays")


def mailbox(db: Session, settings: Settings, **overrides: object) -> Mailbox:
    made = do_create_mailbox(
        db, SYSTEM, secret_key=settings.secret_key, name="客服", address=SUPPORT, **overrides
    )
    db.commit()
    return made


def mail(sender: str, subject: str, body: str, **extra: str) -> tuple[str, bytes]:
    message_id = mail_data.new_id()
    raw = mail_data.plain(
        sender=sender, to=SUPPORT, subject=subject, body=body, message_id=message_id, extra=extra
    )
    return message_id, raw


def test_the_customer_threads_by_subject_reference_and_a_stranger_opens_their_own_case(
    db: Session, settings: Settings
) -> None:
    box = mailbox(db, settings)
    _, raw = mail("a@customer.test", "屏幕碎了", "收到时屏幕就是碎的。")
    first = take(db, settings, box, raw)
    assert first.state == "imported" and first.ticket_id is not None
    ticket_id = first.ticket_id

    _, again = mail("A@Customer.test", f"Re: 屏幕碎了 [#{ticket_id}]", "照片在这里。")
    assert take(db, settings, box, again).ticket_id == ticket_id
    _, stranger = mail("b@other.test", f"Re: 屏幕碎了 [#{ticket_id}]", "我替他说一句。")
    theirs = take(db, settings, box, stranger)

    assert theirs.state == "imported" and theirs.ticket_id != ticket_id
    ticket = db.get(Ticket, theirs.ticket_id)
    assert ticket is not None and ticket.customer_id != db.get(Ticket, ticket_id).customer_id  # type: ignore[union-attr]
    identity = db.scalar(select(Identity).where(Identity.external_id == "b@other.test"))
    assert identity is not None and identity.channel == "email" and not identity.verified


def test_a_mail_that_is_not_a_mail_fails_alerts_the_admins_and_can_be_taken_again(
    db: Session, settings: Settings
) -> None:
    box = mailbox(db, settings)
    admin = make_user(db, role="admin")
    row = take(db, settings, box, b"this is not a mail at all")
    assert row.state == "failed" and row.error is not None and "unparseable" in row.error
    notice = db.scalar(select(Notification).where(Notification.user_id == admin.id))
    assert notice is not None and notice.kind == "mail.failed"

    _, good = mail("a@customer.test", "补发", "现在好了。")
    row.raw = good  # as if the stored bytes had been repaired
    db.commit()
    done = do_reprocess(db, SYSTEM, box.id, row.id, settings=settings)
    db.commit()
    assert done.state == "imported" and db.scalar(select(func.count(Ticket.id))) == 1


def test_acknowledgements_are_rate_limited_per_address_and_auto_replies_get_none(
    db: Session, settings: Settings
) -> None:
    box = mailbox(db, settings, send_acknowledgement=True)
    for n in range(settings.mail_acknowledgements_per_hour + 2):
        _, raw = mail("a@customer.test", f"问题 {n}", f"第 {n} 个问题。")
        row = take(db, settings, box, raw)
        ticket = db.get(Ticket, row.ticket_id)
        assert ticket is not None
        ticket.status = "resolved"  # so the next mail opens a case of its own
        db.commit()
    _, auto = mail(
        "b@customer.test", "Out of office", "I am away.", **{"Auto-Submitted": "auto-replied"}
    )
    assert take(db, settings, box, auto).state == "auto_reply"

    acks = list(
        db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice").order_by(OutboxEntry.id))
    )
    assert len(acks) == settings.mail_acknowledgements_per_hour
    assert all(a.target["to"] == ["a@customer.test"] for a in acks)
    assert "已收到您的邮件" in acks[0].target["text"]


def test_a_reply_carries_the_thread_headers_and_its_message_id_is_kept(
    db: Session, settings: Settings
) -> None:
    box = mailbox(db, settings)
    first_id, raw = mail("a@customer.test", "发票", "请开发票。")
    row = take(db, settings, box, raw)
    ticket = db.get(Ticket, row.ticket_id)
    assert ticket is not None

    reply = make_reply(db, ticket, "好的，今天开出。")

    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == reply.id))
    assert entry is not None and entry.channel == "email"
    target = entry.target
    assert (target["to"], target["mailbox_id"], target["in_reply_to"]) == (
        "a@customer.test", box.id, first_id,
    )  # fmt: skip
    assert target["references"] == [first_id]
    assert target["subject"] == f"Re: 发票 [#{ticket.id}]"
    kept = db.scalar(
        select(MailThreadId).where(MailThreadId.header_message_id == target["message_id"])
    )
    assert kept is not None and (kept.ticket_id, kept.message_id) == (ticket.id, reply.id)

    answer = mail_data.plain(
        sender="a@customer.test", to=SUPPORT, subject="回复", body="收到，谢谢。",
        message_id=mail_data.new_id(), extra={"In-Reply-To": f"<{target['message_id']}>"},
    )  # fmt: skip
    assert take(db, settings, box, answer).ticket_id == ticket.id
    assert db.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket.id)) == 3
