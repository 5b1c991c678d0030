"""Prebuilt SQL for message intake, the hottest write path (see benchmarks/ingest.py).

Built once at import with bind parameters and executed on the session's connection, these
cost a fraction of an ORM flush or a statement rebuilt per call. Statements whose SQL
differs by database (ON CONFLICT) are built per dialect on first use.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    Select,
    String,
    any_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter

from kefu.db.models import (
    Attachment,
    AuditEvent,
    Customer,
    Identity,
    InboundPayload,
    Message,
    Notification,
    Ticket,
    TicketLink,
)
from kefu.domain.tickets import OPEN_STATUSES, TicketStatus

# Lookups by (channel, external id) take both IN lists; callers keep the exact pairs.
_KEY_CHANNELS: BindParameter[Any] = bindparam("channels")
_KEY_IDS: BindParameter[Any] = bindparam("external_ids")

MESSAGES_BY_EXTERNAL_ID = select(
    Message.id, Message.ticket_id, Message.author_customer_id, Message.channel, Message.external_id
).where(Message.channel.in_(_KEY_CHANNELS), Message.external_id.in_(_KEY_IDS))
LOCK_PAYLOADS = (
    select(
        InboundPayload.id,
        InboundPayload.channel,
        InboundPayload.external_id,
        InboundPayload.integration_id,
    )
    .where(InboundPayload.channel.in_(_KEY_CHANNELS), InboundPayload.external_id.in_(_KEY_IDS))
    .order_by(InboundPayload.id)
    .with_for_update()
)
CUSTOMERS_OF_IDENTITIES = select(
    Identity.customer_id, Identity.channel, Identity.external_id
).where(Identity.channel.in_(_KEY_CHANNELS), Identity.external_id.in_(_KEY_IDS))
# Locks customer rows on PostgreSQL (no-op on SQLite, where writers are serialized):
# intake is serialized per customer, so two messages at once cannot both open a ticket.
INSERT_CUSTOMERS = insert(Customer).returning(Customer.id, sort_by_parameter_order=True)
DELETE_CUSTOMERS = delete(Customer).where(Customer.id.in_(bindparam("ids")))
_TICKET_STATE = (
    Ticket.id,
    Ticket.status,
    Ticket.customer_id,
    Ticket.channel,
    Ticket.last_message_at,
    Ticket.priority,
    Ticket.risks,
    Ticket.intent,
    Ticket.category,
    Ticket.emotion,
    Ticket.sentiment,
    Ticket.priority_reason,
    Ticket.awaiting_reply_since,
    Ticket.sla_pauses,
    Ticket.group_id,
    Ticket.assignee_id,
    Ticket.case_path,
    Ticket.stage,
    Ticket.waiting_on,
    Ticket.resolved_at,
    Ticket.merged_into_id,
    Ticket.repeat_complaint,
)
# What analysis read into a ticket that existed before the batch (row by row: only changed ones).
TRIAGE_TICKET = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(
        priority=bindparam("new_priority"),
        risks=bindparam("new_risks"),
        intent=bindparam("new_intent"),
        category=bindparam("new_category"),
        emotion=bindparam("new_emotion"),
        sentiment=bindparam("new_sentiment"),
        priority_reason=bindparam("new_priority_reason"),
        repeat_complaint=or_(Ticket.repeat_complaint, bindparam("new_repeat_complaint")),
        route_again=or_(Ticket.route_again, bindparam("new_route_again")),
    )
)
# The case loop at intake (services/intake/inbound.py): a stage or path that moved, a case the
# customer reopened, links to earlier cases.
MOVE_CASE = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(
        stage=bindparam("new_stage"),
        case_path=bindparam("new_path"),
        waiting_on=bindparam("new_waiting"),
    )
)
REOPEN_CASE = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(
        stage=bindparam("new_stage"),
        waiting_on=None,
        case_file=bindparam("new_case_file"),
        reopen_count=Ticket.reopen_count + 1,
        resolved_at=None,
        closed_at=None,
    )
)
CASE_FILES = select(  # a reopened case's whole case (domain/case_file.py), as stored before
    Ticket.id,
    Ticket.case_path,
    Ticket.stage,
    Ticket.case_file,
    Ticket.category,
    Ticket.waiting_on,
    Ticket.resolved_at,
    Ticket.reopen_count,
).where(Ticket.id.in_(bindparam("ids", expanding=True)))
INSERT_NOTIFICATIONS = insert(Notification).returning(Notification.id, sort_by_parameter_order=True)


def _id_in_list(column: Any, dialect: str) -> Any:
    """``column`` is one of the ``ids`` parameter: ``= ANY(array)`` on PostgreSQL, whose SQL
    stays the same for any number of ids (parsed and planned once); IN (…) on SQLite."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    return column.in_(bindparam("ids"))


@cache
def lock_customers(dialect: str) -> Select[Any]:
    """Locks customer rows on PostgreSQL (a no-op on SQLite, where writers are serialized):
    intake is serialized per customer, so two messages at once cannot both open a ticket."""
    return (
        select(Customer.id)
        .where(_id_in_list(Customer.id, dialect))
        .order_by(Customer.id)
        .with_for_update()
    )


@cache
def tickets_by_id(dialect: str) -> Select[*tuple[Any, ...]]:
    return select(*_TICKET_STATE).where(_id_in_list(Ticket.id, dialect))


@cache
def done_tickets_of_customers(dialect: str) -> Select[*tuple[Any, ...]]:
    """Resolved or closed since ``since`` (not merged away), newest first."""
    return (
        select(*_TICKET_STATE)
        .where(
            _id_in_list(Ticket.customer_id, dialect),
            Ticket.status.in_([TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]),
            Ticket.merged_into_id.is_(None),
            Ticket.resolved_at >= bindparam("since"),
        )
        .order_by(Ticket.id.desc())
    )


@cache
def complaints_of_customers(dialect: str) -> Select[*tuple[Any, ...]]:
    """The customers' complaints opened since ``since`` (for repeat complaints)."""
    return select(Ticket.id, Ticket.customer_id, Ticket.category, Ticket.created_at).where(
        _id_in_list(Ticket.customer_id, dialect),
        Ticket.intent == "complaint",
        Ticket.merged_into_id.is_(None),
        Ticket.created_at >= bindparam("since"),
    )


@cache
def insert_links(dialect: str) -> Insert:
    return _insert_ignoring_conflicts(dialect, TicketLink.__table__)


@cache
def open_tickets_of_customers(dialect: str) -> Select[*tuple[Any, ...]]:
    """Newest first."""
    return (
        select(*_TICKET_STATE)
        .where(
            _id_in_list(Ticket.customer_id, dialect),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(Ticket.id.desc())
    )


INSERT_TICKETS = insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True)
TOUCH_TICKET = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(
        status=bindparam("new_status"),
        last_message_at=bindparam("now"),
        updated_at=bindparam("now"),
        awaiting_reply_since=bindparam("new_awaiting"),
        sla_pauses=bindparam("new_pauses"),
        sla_check_at=bindparam("now"),
    )
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
    update(InboundPayload)
    .where(InboundPayload.id == bindparam("payload_id"))
    .values(payload=bindparam("raw"), integration_id=bindparam("integration_id"))
)
MARK_PAYLOAD_FAILED = (
    update(InboundPayload)
    .where(InboundPayload.id == bindparam("payload_id"))
    .values(
        payload=bindparam("raw"),
        error=bindparam("error"),
        processed_at=None,
        integration_id=bindparam("integration_id"),
    )
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


# The end of a batch on PostgreSQL, in one round trip: move the tickets that got messages,
# write the audit events, mark the payloads processed. Arrays keep the SQL the same for
# any batch size (parsed and planned once); executemany would send one query per row.
_PG_FINISH_BATCH = text(
    "WITH touched AS ("
    " UPDATE tickets AS t SET status = v.status, last_message_at = v.at, updated_at = v.at,"
    " awaiting_reply_since = v.awaiting, sla_pauses = CAST(v.pauses AS jsonb), sla_check_at = v.at"
    " FROM unnest(CAST(:t_ids AS bigint[]), CAST(:t_statuses AS text[]), CAST(:t_ats AS timestamptz[]),"
    " CAST(:t_awaiting AS timestamptz[]), CAST(:t_pauses AS text[]))"
    " AS v(id, status, at, awaiting, pauses) WHERE t.id = v.id RETURNING 1"
    "), audited AS ("
    " INSERT INTO audit_events (actor_type, actor_id, via, action, object_type, object_id, ticket_id,"
    " customer_id, before, after, created_at)"
    " SELECT actor_type, actor_id, via, action, object_type, object_id, ticket_id, customer_id,"
    " CAST(before AS jsonb), CAST(after AS jsonb), created_at FROM unnest(CAST(:a_actor_types AS text[]),"
    " CAST(:a_actor_ids AS bigint[]), CAST(:a_vias AS text[]), CAST(:a_actions AS text[]),"
    " CAST(:a_object_types AS text[]), CAST(:a_object_ids AS bigint[]), CAST(:a_ticket_ids AS bigint[]),"
    " CAST(:a_customer_ids AS bigint[]), CAST(:a_befores AS text[]), CAST(:a_afters AS text[]),"
    " CAST(:a_ats AS timestamptz[]))"
    " AS a(actor_type, actor_id, via, action, object_type, object_id, ticket_id, customer_id, before, after,"
    " created_at)"
    " RETURNING 1"
    "), processed AS ("
    " UPDATE inbound_payloads AS p SET processed_at = v.at, error = NULL, message_id = v.message_id,"
    " ticket_id = v.ticket_id FROM unnest(CAST(:p_ids AS bigint[]), CAST(:p_ats AS timestamptz[]),"
    " CAST(:p_message_ids AS bigint[]), CAST(:p_ticket_ids AS bigint[]))"
    " AS v(id, at, message_id, ticket_id) WHERE p.id = v.id RETURNING 1"
    ") SELECT (SELECT count(*) FROM touched), (SELECT count(*) FROM audited), (SELECT count(*) FROM processed)"
)


def finish_batch(
    conn: Connection,
    tickets: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    payloads: list[dict[str, Any]],
) -> None:
    """``tickets``: rows of ``ticket_id``, ``new_status``, ``now`` (the latest message's time),
    ``new_awaiting`` and ``new_pauses`` (the SLA facts, services/sla/clocks.py);
    ``audit``: audit event rows; ``payloads``: rows of ``payload_id``, ``now``,
    ``new_message_id``, ``new_ticket_id``."""
    if conn.dialect.name != "postgresql":
        if tickets:
            conn.execute(TOUCH_TICKET, tickets)
        if audit:
            conn.execute(INSERT_AUDIT, audit)
        if payloads:
            conn.execute(MARK_PAYLOAD_PROCESSED, payloads)
        return
    params = {
        "t_ids": [r["ticket_id"] for r in tickets],
        "t_statuses": [r["new_status"] for r in tickets],
        "t_ats": [r["now"] for r in tickets],
        "t_awaiting": [r["new_awaiting"] for r in tickets],
        "t_pauses": [json.dumps(r["new_pauses"]) for r in tickets],
        "a_actor_types": [r["actor_type"] for r in audit],
        "a_actor_ids": [r["actor_id"] for r in audit],
        "a_vias": [r["via"] for r in audit],
        "a_actions": [r["action"] for r in audit],
        "a_object_types": [r["object_type"] for r in audit],
        "a_object_ids": [r["object_id"] for r in audit],
        "a_ticket_ids": [r["ticket_id"] for r in audit],
        "a_customer_ids": [r["customer_id"] for r in audit],
        "a_befores": [
            None if r["before"] is None else json.dumps(r["before"], ensure_ascii=False)
            for r in audit
        ],
        "a_afters": [json.dumps(r["after"], ensure_ascii=False) for r in audit],
        "a_ats": [r["created_at"] for r in audit],
        "p_ids": [r["payload_id"] for r in payloads],
        "p_ats": [r["now"] for r in payloads],
        "p_message_ids": [r["new_message_id"] for r in payloads],
        "p_ticket_ids": [r["new_ticket_id"] for r in payloads],
    }
    counts = tuple(conn.execute(_PG_FINISH_BATCH, params).one())
    if counts != (len(tickets), len(audit), len(payloads)):
        raise RuntimeError(
            f"intake batch wrote {counts} rows, expected {len(tickets), len(audit), len(payloads)}"
        )


# Lookups by (channel, external id) pairs. On PostgreSQL, a join to the unnested pairs: one
# index probe per pair, whatever the table's statistics (two IN lists let the planner scan
# every row of a channel). On SQLite, two IN lists over the unique index; callers keep only
# the exact pairs.
def _pg_pairs(sql: str) -> Any:
    return text(sql).bindparams(
        bindparam("channels", type_=ARRAY(String)), bindparam("external_ids", type_=ARRAY(String))
    )


_PG_BY_KEYS = {
    "messages": _pg_pairs(
        "SELECT m.id, m.ticket_id, m.author_customer_id, m.channel, m.external_id FROM messages AS m"
        " JOIN unnest(:channels, :external_ids) AS k(channel, external_id) ON m.channel = k.channel AND m.external_id = k.external_id"
    ),
    "lock_payloads": _pg_pairs(
        "SELECT p.id, p.channel, p.external_id, p.integration_id FROM inbound_payloads AS p"
        " JOIN unnest(:channels, :external_ids) AS k(channel, external_id) ON p.channel = k.channel AND p.external_id = k.external_id"
        " ORDER BY p.id FOR UPDATE OF p"
    ),
    "identities": _pg_pairs(
        "SELECT i.customer_id, i.channel, i.external_id FROM identities AS i"
        " JOIN unnest(:channels, :external_ids) AS k(channel, external_id) ON i.channel = k.channel AND i.external_id = k.external_id"
    ),
}
_SQLITE_BY_KEYS = {
    "messages": MESSAGES_BY_EXTERNAL_ID,
    "lock_payloads": LOCK_PAYLOADS,
    "identities": CUSTOMERS_OF_IDENTITIES,
}


def rows_by_keys(conn: Connection, lookup: str, keys: set[tuple[str, str]]) -> list[Any]:
    """Rows of ``lookup`` (messages, lock_payloads, identities) whose (channel, external_id)
    is one of ``keys``."""
    if conn.dialect.name == "postgresql":
        pairs = sorted(keys)
        params = {"channels": [c for c, _ in pairs], "external_ids": [e for _, e in pairs]}
        return list(conn.execute(_PG_BY_KEYS[lookup], params))
    params = {
        "channels": sorted({c for c, _ in keys}),
        "external_ids": sorted({e for _, e in keys}),
    }
    return [
        r
        for r in conn.execute(_SQLITE_BY_KEYS[lookup], params)
        if (r.channel, r.external_id) in keys
    ]
