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
TICKET_ROW = itemgetter(*TABLES["tickets"])


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

    def __init__(self, ids: Ids, tag_ids: dict[str, int]) -> None:
        self.ids = ids
        self.tag_ids = tag_ids
        self.batch = Batch()
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        batch.last_ids = {table: self.ids.last(table) for table in ID_TABLES}
        for name, rows in batch.rows.items():
            self.counts[name] += len(rows)
        return batch

    def __len__(self) -> int:
        return len(self.batch)

    def customer(self, customer: Any, *, imported_by: int | None) -> None:
        p, at = customer.profile, customer.created_at
        self.batch.rows["customers"].append(
            (customer.id, p.name, p.email, p.phone, p.note, p.language, at, at)
        )
        for tag in p.tags:
            self.batch.rows["customer_tags"].append((customer.id, self.tag_ids[tag]))
        after: dict[str, Any] = {"name": p.name}
        if imported_by is not None:
            actor = Actor.user(imported_by)
            after |= {
                "email": p.email,
                "phone": p.phone,
                "language": p.language,
                "tags": list(p.tags),
            }
        else:
            actor = SYSTEM
        after["identities"] = [f"{c}:{e}" for c, e in p.identities]
        self.audit(actor, "customer.create", "customer", customer.id, None, customer.id,
                   None, after, at)  # fmt: skip

    def identity(
        self, identity_id: int, customer_id: int, channel: str, external_id: str,
        *, verified: bool, at: datetime,
    ) -> None:  # fmt: skip
        self.batch.rows["identities"].append(
            (identity_id, customer_id, channel, external_id, verified, at)
        )

    def ticket(self, fields: dict[str, Any], tags: list[str]) -> None:
        self.batch.rows["tickets"].append(TICKET_ROW(fields))
        ticket_id = fields["id"]
        self.batch.rows["ticket_tags"].extend((ticket_id, self.tag_ids[t]) for t in tags)

    def message(self, message_id: int, values: tuple[Any, ...]) -> None:
        """``values``: the message's columns after the id (from ``ids.next("messages")``)."""
        self.batch.rows["messages"].append((message_id, *values))

    def audit(
        self,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: int,
        ticket_id: int | None,
        customer_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        self.batch.rows["audit_events"].append((
            self.ids.next("audit_events"), actor.type, actor.id, actor.via, action, object_type,
            object_id, ticket_id, customer_id,
            None if before is None else dumps(before), None if after is None else dumps(after), at,
        ))  # fmt: skip

    def link(self, ticket_id: int, linked_id: int, kind: str, at: datetime) -> None:
        self.batch.rows["ticket_links"].append(
            (self.ids.next("ticket_links"), ticket_id, linked_id, kind, None, at)
        )


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
