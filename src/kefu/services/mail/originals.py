"""The original of a customer's mail, for staff who can see its ticket ("显示原文"): the whole
text as the customer sent it (quoted history and signature included) and the raw message."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.email.parse import MailUnparseable, parse_mail
from kefu.db.models import MailRaw, Message
from kefu.errors import NotFound
from kefu.services.actors import Actor
from kefu.services.cases.tickets import access_ticket


@dataclass(frozen=True)
class Original:
    subject: str
    full_text: str
    raw: bytes


def original_of(session: Session, actor: Actor, ticket_id: int, message_id: int) -> Original:
    """404 for a ticket the actor cannot see, and for a message that is no mail of it."""
    ticket = access_ticket(session, actor, ticket_id)
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise NotFound("message")
    row = session.scalar(
        select(MailRaw).where(MailRaw.message_id == message.id).order_by(MailRaw.id).limit(1)
    )
    if row is None or row.raw is None:
        raise NotFound("mail_raw")
    try:
        parsed = parse_mail(row.raw)
        subject, text = parsed.subject, parsed.full_text
    except MailUnparseable:
        subject, text = row.subject or "", ""
    return Original(subject, text, row.raw)
