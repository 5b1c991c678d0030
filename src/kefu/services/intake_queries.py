"""Prebuilt SQL for message intake, the hottest write path (see benchmarks/ingest.py).

Built once at import with bind parameters and executed on the session's connection, these
cost a fraction of an ORM flush or a statement rebuilt per call. Statements whose SQL
differs by database (ON CONFLICT) are built per dialect on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Insert,
    String,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from kefu.db.models import (
    Attachment,
    AuditEvent,
    Customer,
    Identity,
    InboundPayload,
    Message,
    Ticket,
)
from kefu.domain.tickets import OPEN_STATUSES

# Lookups by (channel, external id) take both IN lists; callers keep the exact pairs.
_KEY_CHANNELS, _KEY_IDS = bindparam("channels"), bindparam("external_ids")

MESSAGES_BY_EXTERNAL_ID = select(
    Message.id, Message.ticket_id, Message.author_customer_id, Message.channel, Message.external_id
).where(Message.channel.in_(_KEY_CHANNELS), Message.external_id.in_(_KEY_IDS))
LOCK_PAYLOADS = (
    select(InboundPayload.id, InboundPayload.channel, InboundPayload.external_id)
    .where(InboundPayload.channel.in_(_KEY_CHANNELS), InboundPayload.external_id.in_(_KEY_IDS))
    .order_by(InboundPayload.id)
    .with_for_update()
)
CUSTOMERS_OF_IDENTITIES = select(Identity.customer_id, Identity.channel, Identity.external_id).where(
    Identity.channel.in_(_KEY_CHANNELS), Identity.external_id.in_(_KEY_IDS)
)
# Locks customer rows on PostgreSQL (no-op on SQLite, where writers are serialised):
# intake is serialised per customer, so two messages at once cannot both open a ticket.
LOCK_CUSTOMERS = (
    select(Customer.id).where(Customer.id.in_(bindparam("ids"))).order_by(Customer.id).with_for_update()
)
INSERT_CUSTOMERS = insert(Customer).returning(Customer.id, sort_by_parameter_order=True)
DELETE_CUSTOMERS = delete(Customer).where(Customer.id.in_(bindparam("ids")))
_TICKET_STATE = (Ticket.id, Ticket.status, Ticket.customer_id, Ticket.channel, Ticket.last_message_at)
TICKETS_BY_ID = select(*_TICKET_STATE).where(Ticket.id.in_(bindparam("ids")))
OPEN_TICKETS_OF_CUSTOMERS = (
    select(*_TICKET_STATE)
    .where(
        Ticket.customer_id.in_(bindparam("ids")),
        Ticket.status.in_([s.value for s in OPEN_STATUSES]),
    )
    .order_by(Ticket.id.desc())
)
INSERT_TICKETS = insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True)
TOUCH_TICKET = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(status=bindparam("new_status"), last_message_at=bindparam("now"), updated_at=bindparam("now"))
)
INSERT_MESSAGES = insert(Message).returning(Message.id, sort_by_parameter_order=True)
INSERT_ATTACHMENTS = insert(Attachment)
# RETURNING makes SQLAlchemy send all rows as one multi-row INSERT on every driver, where a
# plain executemany goes row by row over psycopg's pipeline.
INSERT_AUDIT = insert(AuditEvent).returning(AuditEvent.id)
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
REPLACE_PAYLOAD = (
    update(InboundPayload).where(InboundPayload.id == bindparam("payload_id")).values(payload=bindparam("raw"))
)
MARK_PAYLOAD_FAILED = (
    update(InboundPayload)
    .where(InboundPayload.id == bindparam("payload_id"))
    .values(payload=bindparam("raw"), error=bindparam("error"), processed_at=None)
)


def _insert_ignoring_conflicts(dialect: str, table: Any) -> Insert:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()  # type: ignore[no-any-return]


@cache
def insert_payloads(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: a key not returned was stored before."""
    return _insert_ignoring_conflicts(dialect, InboundPayload).returning(
        InboundPayload.id, InboundPayload.channel, InboundPayload.external_id
    )


@cache
def insert_identities(dialect: str) -> Insert:
    """A key not returned was created meanwhile by another transaction."""
    return _insert_ignoring_conflicts(dialect, Identity).returning(
        Identity.customer_id, Identity.channel, Identity.external_id
    )


# Updates of many rows with different values: on PostgreSQL one statement over arrays
# (executemany would send one query per row); SQLite runs in process, where executemany
# costs little.
_PG_TOUCH_TICKETS = text(
    "UPDATE tickets AS t SET status = v.status, last_message_at = v.at, updated_at = v.at"
    " FROM unnest(:ids, :statuses, :ats) AS v(id, status, at) WHERE t.id = v.id"
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("statuses", type_=ARRAY(String)),
    bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
)
_PG_MARK_PAYLOADS_PROCESSED = text(
    "UPDATE inbound_payloads AS p SET processed_at = v.at, error = NULL, message_id = v.message_id,"
    " ticket_id = v.ticket_id FROM unnest(:ids, :ats, :message_ids, :ticket_ids)"
    " AS v(id, at, message_id, ticket_id) WHERE p.id = v.id"
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
    bindparam("message_ids", type_=ARRAY(BigInteger)),
    bindparam("ticket_ids", type_=ARRAY(BigInteger)),
)


def touch_tickets(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows of ``ticket_id``, ``new_status``, ``now`` (the latest message's time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PG_TOUCH_TICKETS,
            {
                "ids": [r["ticket_id"] for r in rows],
                "statuses": [r["new_status"] for r in rows],
                "ats": [r["now"] for r in rows],
            },
        )
    else:
        conn.execute(TOUCH_TICKET, rows)


def mark_payloads_processed(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows of ``payload_id``, ``now``, ``new_message_id``, ``new_ticket_id``."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PG_MARK_PAYLOADS_PROCESSED,
            {
                "ids": [r["payload_id"] for r in rows],
                "ats": [r["now"] for r in rows],
                "message_ids": [r["new_message_id"] for r in rows],
                "ticket_ids": [r["new_ticket_id"] for r in rows],
            },
        )
    else:
        conn.execute(MARK_PAYLOAD_PROCESSED, rows)
