"""A ticket's timeline: its messages and the events of its trail, in the order they happened.

Messages speak for themselves (the events that only record a message — inbound, reply, note —
are left out), a reply with its delivery state (queued … read, failed, dead); every other
audit event on the ticket (steps of the loop, routing, SLA warnings and breaches, triage,
links, merges, repeat complaints, field changes, a reply gone to the dead letters and its
replay) comes with one line of Chinese from domain/timeline.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Message, Ticket, TicketField
from kefu.domain.timeline import describe
from kefu.services import audit

MESSAGE_EVENTS = frozenset({"ticket.inbound", "ticket.reply", "ticket.note"})
DIRECTION_ZH = {"inbound": "客户", "outbound": "客服回复", "note": "内部备注"}
EXCERPT = 120


def of_ticket(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    entries: list[tuple[Any, int, dict[str, Any]]] = []
    for m in session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
    ):
        text = " ".join(m.body_text.split())
        excerpt = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
        entries.append(
            (
                m.created_at,
                0,
                {
                    "at": m.created_at,
                    "kind": "message",
                    "action": f"message.{m.direction}",
                    "summary": f"{DIRECTION_ZH.get(m.direction, m.direction)}：{excerpt}",
                    "actor_type": m.author_type,
                    "actor_id": m.author_user_id or m.author_customer_id,
                    "message_id": m.id,
                    "delivery_state": m.delivery_state,
                },
            )
        )
    entries.extend((e["at"], 1, e) for e in event_entries(session, ticket))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in entries]


def event_entries(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The events of the ticket's trail other than its messages, oldest first, each with its
    line of Chinese and who did it (``actor_name``): two queries however many there are."""
    events = [
        e
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)
        )
        if e.action not in MESSAGE_EVENTS
    ]
    names = audit.actor_names(session, {(e.actor_type, e.actor_id) for e in events})
    fields = _field_labels(session) if any(e.action == "ticket.fields" for e in events) else {}
    return [
        {
            "at": e.created_at,
            "kind": "event",
            "action": e.action,
            "summary": describe(e.action, e.before, e.after, fields),
            "actor_type": e.actor_type,
            "actor_id": e.actor_id,
            "data": e.after,
            "actor_name": names.get((e.actor_type, e.actor_id)),
        }
        for e in events
    ]


def _field_labels(session: Session) -> dict[str, str]:
    """The names agents know the custom fields by (订单号), by key (order_no)."""
    return {
        key: label for key, label in session.execute(select(TicketField.key, TicketField.label))
    }
