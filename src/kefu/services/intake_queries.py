"""Prebuilt SQL for message intake, the hottest write path (see benchmarks/ingest.py).

Built once at import with bind parameters and executed on the session's connection, these
cost a fraction of an ORM flush or a statement rebuilt per call. Statements whose SQL
differs by database (ON CONFLICT) are built per dialect on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kefu.db.models import (
    ApiToken,
    AuditEvent,
    Customer,
    Identity,
    InboundPayload,
    Message,
    Ticket,
    User,
)
from kefu.db.models.staff import group_members
from kefu.domain.tickets import OPEN_STATUSES

MESSAGE_BY_EXTERNAL_ID = select(Message.id, Message.ticket_id, Message.author_customer_id).where(
    Message.channel == bindparam("channel"), Message.external_id == bindparam("external_id")
)
CUSTOMER_OF_IDENTITY = select(Identity.customer_id).where(
    Identity.channel == bindparam("channel"), Identity.external_id == bindparam("external_id")
)
# Locks the customer row on PostgreSQL (no-op on SQLite, where writers are serialised):
# intake is serialised per customer, so two messages at once cannot both open a ticket.
LOCK_CUSTOMER = select(Customer.id).where(Customer.id == bindparam("customer_id")).with_for_update()
INSERT_CUSTOMER = insert(Customer).returning(Customer.id)
DELETE_CUSTOMER = delete(Customer).where(Customer.id == bindparam("customer_id"))
OPEN_TICKET_OF_CUSTOMER = (
    select(Ticket.id, Ticket.status)
    .where(
        Ticket.customer_id == bindparam("customer_id"),
        Ticket.channel == bindparam("channel"),
        Ticket.status.in_([s.value for s in OPEN_STATUSES]),
    )
    .order_by(Ticket.id.desc())
    .limit(1)
)
TICKET_BY_ID = select(Ticket.id, Ticket.status, Ticket.customer_id).where(Ticket.id == bindparam("ticket_id"))
INSERT_TICKET = insert(Ticket).returning(Ticket.id)
TOUCH_TICKET = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(status=bindparam("new_status"), last_message_at=bindparam("now"), updated_at=bindparam("now"))
)
INSERT_MESSAGE = insert(Message).returning(Message.id)
INSERT_AUDIT = insert(AuditEvent)
MARK_PAYLOAD_PROCESSED = (
    update(InboundPayload)
    .where(InboundPayload.id == bindparam("payload_id"))
    .values(
        processed_at=bindparam("now"),
        error=None,
        message_id=bindparam("new_message_id"),
        ticket_id=bindparam("new_ticket_id"),
    )
)

TOKEN_OWNER = (
    select(ApiToken.id, ApiToken.revoked_at, User.id.label("user_id"), User.role, User.name, User.is_active)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
GROUPS_OF_USER = select(group_members.c.group_id).where(group_members.c.user_id == bindparam("user_id"))


def _insert_ignoring_conflicts(dialect: str, table: Any) -> Insert:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()  # type: ignore[no-any-return]


@cache
def insert_payload(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: no row back means "stored before"."""
    return _insert_ignoring_conflicts(dialect, InboundPayload).returning(InboundPayload.id)


@cache
def insert_identity(dialect: str) -> Insert:
    return _insert_ignoring_conflicts(dialect, Identity).returning(Identity.id)
