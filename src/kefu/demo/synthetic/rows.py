"""The rows the synthetic history writes: the tables and columns, their ids, and the time order.

Rows are plain tuples in the column order of ``TABLES`` (timestamps as aware UTC datetimes,
JSON columns already serialized), collected per batch and handed to the bulk writer
(``writer.py``). Ids are allocated here, from the first free id of each table, so a batch
needs no round trip to learn them.

Messages and audit events get their ids in the order they happened across all tickets, as
in real use: the planner puts them on a ``Timeline`` and releases them once no later ticket
can come before them.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

# The columns written, per table, in the order the writer must write the tables (parents
# first). Columns not named here keep their database default.
TABLES: dict[str, tuple[str, ...]] = {
    "customers": ("id", "name", "email", "phone", "note", "language", "created_at", "updated_at"),
    "identities": ("id", "customer_id", "channel", "external_id", "verified", "created_at"),
    "customer_tags": ("customer_id", "tag_id"),
    "tickets": (
        "id", "subject", "status", "channel", "customer_id", "assignee_id", "group_id",
        "intent", "category", "priority", "risks", "emotion", "sentiment", "priority_reason",
        "first_response_due_at", "next_response_due_at", "resolution_due_at",
        "first_response_at", "resolved_at", "closed_at", "reopen_count", "last_message_at",
        "awaiting_reply_since", "sla_pauses", "sla_check_at", "escalations", "route_again",
        "case_path", "stage", "waiting_on", "case_file", "repeat_complaint",
        "chat_passed_by", "chat_accepted_at", "webchat_channel_id", "created_at", "updated_at",
    ),
    "ticket_tags": ("ticket_id", "tag_id"),
    "messages": (
        "id", "ticket_id", "channel", "direction", "author_type", "author_user_id",
        "author_customer_id", "body_text", "body_html", "external_id", "analysis",
        "analysis_attempts", "delivery_state", "created_at",
    ),
    "audit_events": (
        "id", "actor_type", "actor_id", "via", "action", "object_type", "object_id",
        "ticket_id", "customer_id", "before", "after", "created_at",
    ),
    "ticket_links": ("id", "ticket_id", "linked_ticket_id", "kind", "created_by_id", "created_at"),
}  # fmt: skip
# Tables whose ids the generator allocates (the others are link tables without an id).
ID_TABLES = tuple(name for name, columns in TABLES.items() if columns[0] == "id")
TICKET_ROW = itemgetter(*TABLES["tickets"])  # a ticket's row from a dict of its columns


# One encoder for all rows: ``json.dumps`` with options builds a new one on every call.
dumps = json.JSONEncoder(ensure_ascii=False).encode


class Ids:
    """The next free id of each table, starting where the database's ids end."""

    def __init__(self, first: dict[str, int]) -> None:
        self.first = dict(first)
        self._next = dict(first)

    def next(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def last(self, table: str) -> int:
        """The highest id handed out so far (or the one before the first, if none)."""
        return self._next[table] - 1

    def used(self, table: str, last: int) -> bool:
        """Whether this run handed out ids of ``table`` up to ``last``."""
        return last >= self.first[table]


@dataclass
class Batch:
    """Rows of every table, ready to write in ``TABLES`` order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )
    # The highest id of each table handed out up to this batch (its sequences move there).
    last_ids: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(r) for r in self.rows.values())


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit trail names them."""

    type: str  # user | system
    id: int | None
    via: str

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls("user", user_id, "session")


SYSTEM = Actor("system", None, "system")


class Rows:
    """Collects one batch of rows at a time, allocating ids as rows are added."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.batch = Batch()
        self._last_ids = {table: ids.last(table) for table in ID_TABLES}

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        for table in ID_TABLES:
            if batch.rows[table]:
                self._last_ids[table] = batch.rows[table][-1][0]
        batch.last_ids = dict(self._last_ids)
        return batch

    def __len__(self) -> int:
        return len(self.batch)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.batch.rows[table].append(row)

    def audit(
        self,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: int,
        ticket_id: int | None,
        customer_id: int | None,
        before: str | None,
        after: str | None,
        at: datetime,
    ) -> None:
        """An audit event; ``before`` and ``after`` are JSON already."""
        self.batch.rows["audit_events"].append((
            self.ids.next("audit_events"), actor.type, actor.id, actor.via, action, object_type,
            object_id, ticket_id, customer_id, before, after, at,
        ))  # fmt: skip


class TicketSink:
    """Writes one ticket's messages and events as the timeline reaches them: the rows that need
    an id handed out in time order (messages, audit events, links)."""

    def __init__(self, rows: Rows, ticket_id: int, customer_id: int, channel: str) -> None:
        self.rows = rows
        self.ticket_id = ticket_id
        self.customer_id = customer_id
        self.channel = channel
        self.last_message_id = 0

    def inbound(self, text: str, html: str, analysis: str, audited: bool, at: datetime) -> None:
        """The customer's message, and intake's ``ticket.inbound`` event unless staff typed it."""
        rows, channel = self.rows, self.channel
        message_id = self.last_message_id = rows.ids.next("messages")
        external_id = None if channel == "web" else external_message_id(channel, message_id)
        rows.add("messages", (message_id, self.ticket_id, channel, "inbound", "customer", None,
                              self.customer_id, text, html, external_id, analysis, 0, None, at))  # fmt: skip
        if audited:
            after = (f'{{"message_id": {message_id}, "channel": "{channel}", '
                     f'"external_id": {dumps(external_id)}}}')  # fmt: skip
            rows.audit(SYSTEM, "ticket.inbound", "message", message_id, self.ticket_id,
                       self.customer_id, None, after, at)  # fmt: skip

    def agent(
        self,
        direction: str,
        actor: Actor,
        text: str,
        html: str,
        delivery: str | None,
        before: str | None,
        after_rest: str,
        at: datetime,
    ) -> None:
        """A reply or an internal note, with its ``ticket.reply`` / ``ticket.note`` event;
        ``after_rest``: the event's JSON after its message id (``"direction": …}``)."""
        rows = self.rows
        message_id = self.last_message_id = rows.ids.next("messages")
        rows.add("messages", (message_id, self.ticket_id, self.channel, direction, actor.type,
                              actor.id, None, text, html, None, None, 0, delivery, at))  # fmt: skip
        action = "ticket.note" if direction == "note" else "ticket.reply"
        rows.audit(actor, action, "message", message_id, self.ticket_id, self.customer_id,
                   before, f'{{"message_id": {message_id}, {after_rest}', at)  # fmt: skip

    def event(
        self, actor: Actor, action: str, before: str | None, after: str, at: datetime
    ) -> None:
        """An event of the ticket's trail (JSON already)."""
        tid = self.ticket_id
        self.rows.audit(actor, action, "ticket", tid, tid, self.customer_id, before, after, at)

    def message_step(self, after_head: str, at: datetime) -> None:
        """The step of the loop the customer's message just written took (resume, reopened, …);
        ``after_head``: the event's JSON before its message id (``{"step": …``)."""
        after = f'{after_head}, "message_id": {self.last_message_id}}}'
        self.event(SYSTEM, "case.step", None, after, at)

    def link(self, linked_id: int, kind: str, at: datetime) -> None:
        rows = self.rows
        rows.add(
            "ticket_links",
            (rows.ids.next("ticket_links"), self.ticket_id, linked_id, kind, None, at),
        )


_MESSAGE_IDS = {
    "wechat": lambda n: str(25_000_000_000_000_000 + n * 7_919),
    "email": lambda n: f"<syn-{n}@mail.example.org>",
    "webchat": lambda n: f"wcm-{n}",
    "phone": lambda n: f"call-{n:08d}",
}


def external_message_id(channel: str, message_id: int) -> str:
    """The id a channel gives the message, in its own style; unique through the message id."""
    make = _MESSAGE_IDS.get(channel)
    return make(message_id) if make else f"{channel}-m{message_id}"


class Timeline:
    """Things to write in the order they happened, across tickets planned one after another.

    A ticket's events are added when it is planned; ``release(before)`` writes (calls) those
    earlier than ``before`` — the start of the next ticket, which nothing left to plan can
    precede — so ids follow time without holding the whole history in memory.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def add(self, at: datetime, write: Callable[..., None], *args: Any) -> None:
        """Call ``write(*args)`` when the timeline reaches ``at``."""
        heapq.heappush(self._heap, (at, next(self._order), write, args))

    def release(self, before: datetime | None = None) -> None:
        heap = self._heap
        while heap and (before is None or heap[0][0] < before):
            _, _, write, args = heapq.heappop(heap)
            write(*args)

    def __len__(self) -> int:
        return len(self._heap)
