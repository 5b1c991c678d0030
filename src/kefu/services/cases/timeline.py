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

from kefu.db.models import AuditEvent, Message, Ticket
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
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)
    )
    for e in events:
        if e.action in MESSAGE_EVENTS:
            continue
        entries.append(
            (
                e.created_at,
                1,
                {
                    "at": e.created_at,
                    "kind": "event",
                    "action": e.action,
                    "summary": describe(e.action, e.before, e.after),
                    "actor_type": e.actor_type,
                    "actor_id": e.actor_id,
                    "data": e.after,
                },
            )
        )
    names = audit.actor_names(
        session, {(e["actor_type"], e["actor_id"]) for _, kind, e in entries if kind == 1}
    )
    for _, kind, entry in entries:
        if kind == 1:
            entry["actor_name"] = names.get((entry["actor_type"], entry["actor_id"]))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in entries]
