"""A visitor's conversation: the public messages of their customer's web chat tickets.

The widget numbers messages by ``seq``, the message id. Ids are given at insert, not at commit,
so on PostgreSQL two transactions can commit them out of order: a reader that saw message 12
may later find 11. A resume (``after=N``) therefore also answers the messages created up to
``OVERLAP`` before message N; the widget dedupes by seq, so the overlap costs a few bytes and a
gap never happens.

A visitor only ever reads their own conversation: every loader here takes the visitor's
customer and answers None for anything else, which the API turns into 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, selectinload

from kefu.db.models import Attachment, Customer, Message, Ticket, User
from kefu.domain.delivery import DeliveryState
from kefu.domain.events import VisitorMessage
from kefu.domain.tickets import OPEN_STATUSES, AuthorType, Channel, Direction

OVERLAP = timedelta(seconds=5)
MAX_OVERLAP_MESSAGES = 500
EXTERNAL_PREFIX = "wc:"
PUBLIC = (Direction.INBOUND.value, Direction.OUTBOUND.value)


def _conversation(customer_id: int) -> ColumnElement[bool]:
    return and_(
        Ticket.customer_id == customer_id,
        Ticket.channel == Channel.WEBCHAT.value,
        Message.direction.in_(PUBLIC),
    )


def _messages() -> Select[Message]:
    return (
        select(Message)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .options(selectinload(Message.attachments))
    )


def messages_after(
    session: Session, customer_id: int | None, after: int, limit: int
) -> list[Message]:
    """Up to ``limit`` messages after seq ``after``, in seq order, with the overlap before it."""
    if customer_id is None:
        return []
    conversation = _conversation(customer_id)
    newer = list(
        session.scalars(
            _messages().where(conversation, Message.id > after).order_by(Message.id).limit(limit)
        )
    )
    named_at = (
        session.scalar(
            select(Message.created_at).join(Ticket).where(conversation, Message.id == after)
        )
        if after > 0
        else None
    )
    if named_at is None:
        return newer
    overlap = list(
        session.scalars(
            _messages()
            .where(conversation, Message.id <= after, Message.created_at >= named_at - OVERLAP)
            .order_by(Message.id.desc())
            .limit(MAX_OVERLAP_MESSAGES)
        )
    )
    return sorted(overlap, key=lambda m: m.id) + newer


def last_seq(session: Session, customer_id: int | None) -> int:
    if customer_id is None:
        return 0
    found = session.scalar(
        select(func.max(Message.id)).join(Ticket).where(_conversation(customer_id))
    )
    return int(found or 0)


def message_of(session: Session, customer_id: int | None, message_id: int) -> Message | None:
    """One message of the visitor's conversation; None if it is anyone else's (or a note)."""
    if customer_id is None:
        return None
    return session.scalar(_messages().where(_conversation(customer_id), Message.id == message_id))


def attachment_of(
    session: Session, customer_id: int | None, attachment_id: int
) -> Attachment | None:
    if customer_id is None:
        return None
    return session.scalar(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(_conversation(customer_id), Attachment.id == attachment_id)
    )


def open_chat(session: Session, customer_id: int | None) -> Ticket | None:
    """The visitor's open web chat ticket, the newest if there are several."""
    if customer_id is None:
        return None
    return session.scalar(
        select(Ticket)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.channel == Channel.WEBCHAT.value,
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            Ticket.merged_into_id.is_(None),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


# --- the widget's message shape ------------------------------------------------------------------


def external_id_for(visitor_external_id: str, client_id: str) -> str:
    """The message's key for intake's dedupe: the same client id of the same visitor is the same
    message. The visitor part is hashed to keep the key short; the client id stays readable."""
    visitor = hashlib.sha256(visitor_external_id.encode()).hexdigest()[:24]
    return f"{EXTERNAL_PREFIX}{visitor}:{client_id}"


def client_id_of(message: Message) -> str | None:
    external = message.external_id or ""
    if message.channel != Channel.WEBCHAT.value or not external.startswith(EXTERNAL_PREFIX):
        return None
    return external.rsplit(":", 1)[-1]


def author_names(session: Session, messages: Iterable[Message]) -> dict[tuple[str, int], str]:
    """Who wrote each message, by ("user" | "customer", id), looked up in two queries."""
    items = list(messages)
    users = {m.author_user_id for m in items if m.author_user_id is not None}
    customers = {m.author_customer_id for m in items if m.author_customer_id is not None}
    names: dict[tuple[str, int], str] = {}
    if users:
        for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(users))):
            names[("user", uid)] = name
    if customers:
        rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customers)))
        for cid, name in rows:
            names[("customer", cid)] = name
    return names


def shaped(
    messages: Sequence[Message], names: dict[tuple[str, int], str], key: str
) -> list[dict[str, Any]]:
    return [msg_json(m, names, key) for m in messages]


def msg_json(message: Message, names: dict[tuple[str, int], str], key: str) -> dict[str, Any]:
    """The widget's Msg (plan-18.md) of a stored message."""
    if message.direction == Direction.INBOUND.value:
        sender, author = "visitor", names.get(("customer", message.author_customer_id or 0), "")
    else:
        sender, author = outbound_author(
            message.author_type, names.get(("user", message.author_user_id or 0), "")
        )
    shown = widget_message(
        message.id, client_id_of(message), sender, author, message.body_text,
        [(a.id, a.filename, a.content_type, a.size) for a in message.attachments],
        message.created_at, message.delivery_state, key,
    )  # fmt: skip
    if message.bot_payload:  # the article link, the quick replies, the contact form
        shown["bot"] = message.bot_payload
    return shown


def delivered_json(event: VisitorMessage, key: str) -> dict[str, Any]:
    """The widget's Msg of a message the web chat adapter delivered (channels/webchat.py)."""
    sender, author = outbound_author(event.author_type, event.author_name)
    return widget_message(
        event.message_id, None, sender, author, event.text, event.attachments,
        event.created_at, DeliveryState.SENT.value, key,
    )  # fmt: skip


def outbound_author(author_type: str, name: str) -> tuple[str, str]:
    """Who the visitor sees an outbound message from: an agent by name, the bot, or the system."""
    if author_type == AuthorType.USER.value:
        return "agent", name or "客服"
    if author_type == AuthorType.BOT.value:
        return "bot", "智能助手"
    return "system", "系统"


def widget_message(
    seq: int,
    client_id: str | None,
    sender: str,
    author: str,
    text: str,
    attachments: Iterable[tuple[int, str, str, int]],
    created_at: datetime | None,
    delivery_state: str | None,
    key: str,
) -> dict[str, Any]:
    """One message as the widget gets it. Text is text: the widget shows it with textContent."""
    return {
        "seq": seq,
        "client_id": client_id,
        "from": sender,
        "author": author,
        "text": text,
        "attachments": [
            {
                "id": id_,
                "filename": filename,
                "content_type": content_type,
                "size": size,
                "url": f"/chat/api/{key}/attachments/{id_}",
            }
            for id_, filename, content_type, size in attachments
        ],
        "created_at": _iso(created_at) if created_at is not None else None,
        "delivery_state": delivery_state,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def waiting_in_queue(ticket: Ticket) -> bool:
    """A chat no agent has taken yet."""
    return ticket.chat_accepted_at is None and ticket.assignee_id is None


def accepted_by(session: Session, ticket: Ticket) -> str | None:
    if ticket.assignee_id is None:
        return None
    return session.scalar(select(User.name).where(User.id == ticket.assignee_id))
