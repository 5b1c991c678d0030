"""The case (工单), its messages and attachments, and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    false,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, ColumnElement

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow
from kefu.db.models.customers import Customer
from kefu.db.models.staff import Group, User

# The open statuses as the partial index ix_tickets_open_work names them (and in this order).
OPEN_WORK_STATUSES = ("new", "open", "pending")
OPEN_WORK = "status IN ('new', 'open', 'pending')"


ticket_tags = Table(
    "ticket_tags",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SlaOrder(ColumnElement[datetime]):
    """SQL: a case's nearest running SLA deadline, or 9999-12-31 when no clock runs: the inbox's
    default order (services/cases/inbox.py), and an index of its own. Written out as literal SQL
    for each engine, the same in the index and in the queries, so that both engines use it."""

    inherit_cache = True
    type = UTCDateTime()


NO_DEADLINE_SQL = {
    "postgresql": "'9999-12-31 00:00:00+00'::timestamptz",
    "sqlite": "'9999-12-31 00:00:00.000000'",
}


@compiles(SlaOrder, "postgresql")
def _sla_order_postgresql(element: SlaOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        "COALESCE(LEAST(first_response_due_at, next_response_due_at, resolution_due_at), "
        f"{NO_DEADLINE_SQL['postgresql']})"
    )


@compiles(SlaOrder)
def _sla_order_sqlite(element: SlaOrder, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's min() of several values is NULL if any is: each falls back on the others.
    return (
        "coalesce(min(coalesce(first_response_due_at, next_response_due_at, resolution_due_at), "
        "coalesce(next_response_due_at, resolution_due_at, first_response_due_at), "
        "coalesce(resolution_due_at, first_response_due_at, next_response_due_at)), "
        f"{NO_DEADLINE_SQL['sqlite']})"
    )


class SlaOrderUnindexed(SlaOrder):
    """The same order, written so that SQLite does not walk the index for it: for a few cases
    found by another index (SQLite's planner would walk every case in order to find them)."""

    inherit_cache = True


@compiles(SlaOrderUnindexed, "sqlite")
def _sla_order_sqlite_unindexed(element: SlaOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({_sla_order_sqlite(element, compiler, **kw)} || '')"


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#888888")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


DASHBOARD_COLUMNS = [
    "merged_into_id", "group_id", "channel", "assignee_id", "case_path", "category", "emotion",
    "sentiment",
]  # fmt: skip


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_group_status", "group_id", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # The inbox's views (services/cases/inbox.py): P1 crises; recently resolved, counted from
        # the index alone (with what visibility reads) and listed the latest first — the status
        # first, so that SQLite picks it without statistics (it prefers equality to a range);
        # the open tickets in SLA order, walked for the broad views.
        Index("ix_tickets_priority_status", "priority", "status"),
        Index("ix_tickets_resolved", "status", "resolved_at", "group_id", "assignee_id"),
        # A period's cases (services/analytics: the KPI facts, the dashboard's breakdowns and
        # drill-down) are read by their opening time; on PostgreSQL with the columns they are
        # filtered and grouped by, so that the dashboard's counts read the index alone.
        Index("ix_tickets_created_at", "created_at", postgresql_include=DASHBOARD_COLUMNS),
        Index(
            "ix_tickets_sla_order",
            SlaOrder(),
            "id",
            sqlite_where=text(OPEN_WORK),
            postgresql_where=text(OPEN_WORK),
        ),
        # The supervisor board's aggregates read this, not the rows (services/staff/board.py):
        # open tickets only, so a query must name them exactly so (OPEN_WORK_STATUSES, literal).
        Index(
            "ix_tickets_open_work",
            "group_id",
            "assignee_id",
            "priority",
            "channel",
            "chat_accepted_at",
            "merged_into_id",
            "first_response_due_at",
            "next_response_due_at",
            "resolution_due_at",
            "awaiting_reply_since",
            "status",  # only open ones here, but SQLite reads an index as covering only with it
            sqlite_where=text(OPEN_WORK),
            postgresql_where=text(OPEN_WORK),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    channel: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))

    # What analysis and people read out of the case (see docs/triage.md).
    intent: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(2), default="P4")
    risks: Mapped[list[str]] = mapped_column(JSONData, default=list)
    emotion: Mapped[str | None] = mapped_column(String(20))
    sentiment: Mapped[str | None] = mapped_column(String(10))
    priority_reason: Mapped[str | None] = mapped_column(
        String(300)
    )  # "为什么是P1", from analysis or a person

    # The database is the clock: every deadline is a column that sweeps read.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The facts SLA clocks are derived from (domain/sla.py evaluate): the oldest customer message
    # still unanswered, and the [start, end] intervals spent pending or resolved (ISO strings).
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_pauses: Mapped[list[list[str | None]]] = mapped_column(JSONData, default=list)
    # The earliest warning moment (80 % of a budget used) of a clock still running, written by
    # the sweep with the deadlines: at or past it the case is "SLA at risk" in the inbox.
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the sweep must look at this ticket next (a warning or deadline, or a change to plan);
    # None: no clock is running.
    sla_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)  # SLA breaches escalated
    # The lifecycle automations (services/automations/state.py): when the sweep must look at the
    # case next (auto-close or nudge), since when it waits on the customer, when it was nudged.
    # On the ticket's own row, written with its status: no other row is locked by a status write.
    auto_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    auto_waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The quality review owed for the case's last resolution (services/qa/queue.py): set with the
    # status when the case is resolved (a complaint: archived), cleared by the review job.
    qa_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A crisis raised after the case was routed: the sweep routes it again (services/cases/routing.py).
    route_again: Mapped[bool] = mapped_column(Boolean, default=False)

    # The closed loop (domain/case_loop.py): the path and stage, what the case waits on, and
    # the data each step recorded (facts, analysis, solution, compensation, feedback, lesson).
    case_path: Mapped[str] = mapped_column(String(10), default="short")
    stage: Mapped[str] = mapped_column(String(20), default="open")
    waiting_on: Mapped[str | None] = mapped_column(String(20))
    case_file: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    repeat_complaint: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # 重复投诉, linked to the earlier cases
    # Live chat (domain/chat_offers.py): the agent the waiting chat is offered to, until when,
    # and who let it pass; accepted_at once an agent took it.
    chat_offer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    chat_offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    chat_passed_by: Mapped[list[int]] = mapped_column(JSONData, default=list)
    chat_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The web chat widget the conversation came through (its settings, its group).
    webchat_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("webchat_channels.id", ondelete="SET NULL")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id")
    )  # a duplicate merged into that case
    # The answering bot holds the case (services/bot/): out of the agents' queues, offers and
    # SLA sweep until it hands off; the bot's time is then a pause of the clocks.
    bot_holds: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Custom fields (db/models/fields.py TicketField), by key; and the order the order-number
    # field names as the shop's system answered (services/fields/orders.py): its state, when it
    # was asked and fetched, the answer or what went wrong. order_lookup_due_at: a lookup waits.
    fields: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    order_lookup: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    order_lookup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    group: Mapped[Group | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tags, order_by="Tag.name")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", viewonly=True
    )


class TicketLink(Base):
    """A later case pointing at an earlier one: the follow-up after the reopen window, a repeat
    complaint, a duplicate merged into it, or a link a person made."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "linked_ticket_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    linked_ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # follow_up | repeat_complaint | merged | related
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaEvent(Base):
    """A warning or breach of one SLA clock, recorded once (the unique key makes sweeps idempotent)."""

    __tablename__ = "sla_events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "key"),
        # The dashboard's heat map: a period's breaches by when they fired; its drill-down:
        # whether a case breached (read from the index alone).
        Index("ix_sla_events_kind_due_at", "kind", "due_at"),
        Index("ix_sla_events_ticket_kind", "ticket_id", "kind", "target"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))  # "resolution:breach:<clock start>"
    target: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # warn | breach | met (stopped in time)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # Each agent's norm score over time (services/norms_scores.py): checked replies only.
        Index(
            "ix_messages_norm_author_created",
            "author_user_id",
            "created_at",
            sqlite_where=text("norm_score IS NOT NULL"),
            postgresql_where=text("norm_score IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    author_type: Mapped[str] = mapped_column(String(10))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    # A customer message whose analysis raised is stored all the same and retried later
    # (services/intake/analysis_retry.py): the last error, the attempts so far, the next try.
    analysis_error: Mapped[str | None] = mapped_column(Text)
    analysis_attempts: Mapped[int] = mapped_column(Integer, default=0)
    analysis_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A reply's or a bot answer's way to the customer (domain/delivery.py); None: not sent out.
    delivery_state: Mapped[str | None] = mapped_column(String(10))
    # An agent's reply as the norms checker read it when sent (services/norms.py): its norm
    # score, the rules it broke, and who sent it over an error finding and why. None: not checked.
    norm_score: Mapped[int | None] = mapped_column(Integer)
    norm_rules: Mapped[list[str] | None] = mapped_column(JSONData)
    norm_override_reason: Mapped[str | None] = mapped_column(Text)
    norm_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A bot message's extras for the widget: the article it links and the quick replies it
    # offers, or the contact form it asks for (services/bot/). None: any other message.
    bot_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    # A spoken turn of a phone call (services/webhooks/transcripts.py): where it lies in the
    # call and, for an agent's turn, its speaking rate (domain/speaking_rate.py):
    # {"start_s", "end_s", "rate", "limit", "fast"}. None: not a call turn.
    call_turn: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(Base):
    """A file on a message; the bytes live in the data directory under their SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


def open_work() -> ColumnElement[bool]:
    """SQL: the ticket is open, named as the partial indexes name open tickets: the values
    written into the SQL, in this order (a planner proves a partial index applies only from
    literal values)."""
    statuses: BindParameter[list[str]] = bindparam(
        "open_statuses", list(OPEN_WORK_STATUSES), expanding=True, literal_execute=True
    )
    return Ticket.status.in_(statuses)
