"""Intake of customer messages from any integration (store first, then process).

Messages are taken in batches: ``receive_batch`` turns any number of deliveries into
payload, customer, ticket, message and audit rows with a fixed number of set-based
statements, in the caller's transaction. ``receive_inbound`` takes one message.

For every delivery, in the same transaction:

- the raw payload is written first, with the integration that delivered it; a redelivery of
  the same (channel, external id) by the same integration returns the ids of the first
  delivery and stores nothing new (also within one batch); by another integration, it is
  refused (409 duplicate_delivery) without those ids;
- the sender's channel identity finds or creates the customer; customer rows are locked
  (PostgreSQL) so intake is serialized per customer across processes: two first messages
  at once make one customer and one open ticket;
- the message joins the customer's open ticket on that channel (or the ticket it names);
  else, if the customer's last case there was resolved within the reopen window, it reopens
  that case (counted; during 跟进反馈 the message is the customer's feedback and the assignee
  is told); else a new ticket is opened, linked to that last case if there was one;
- a complaint in the same category as one of the customer's complaints of the last 30 days is
  a repeat complaint (重复投诉): flagged, linked to the earlier cases, raised by the priority
  rule (domain/repeat_complaints.py); a crisis raised on a case already routed sends it back to
  routing (services/cases/routing.py).

A message whose analysis raised (``analyze_deliveries``) is no failure of its delivery: it
is stored like the others with ``analysis_error`` set, its ticket gets no triage from it yet,
and services/intake/analysis_retry.py analyzes it again later.

A delivery that is wrong in itself (a ticket of another customer, an attachment that is
not base64) gets its ``KefuError`` back as its outcome and its payload keeps the error;
the rest of the batch goes on. Any other exception leaves the transaction unusable and
propagates: the caller rolls back and retries the deliveries one by one (``IntakeWriter``).

This is the hottest write path, so it runs prebuilt statements (``intake_queries``) on the
session's connection instead of ORM flushes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import InboundPayload, Ticket
from kefu.domain import analysis_retry, repeat_complaints
from kefu.domain import case_loop as cw
from kefu.domain import case_planner as planner
from kefu.domain import events as ev
from kefu.domain.case_file import case_file_of, case_of
from kefu.domain.notices import Audience, notices_for
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.errors import KefuError, NotFound
from kefu.nlp.analysis import Analysis, Analyzer, analyzer
from kefu.sanitize import sanitize_html, text_to_html
from kefu.services.actors import Actor
from kefu.services.case_library import entries as case_entries
from kefu.services.events import unit_of_work as events
from kefu.services.fields import values as field_values
from kefu.services.intake import message_triage
from kefu.services.intake import queries as q
from kefu.services.intake.attachments import AttachmentIn, StoredFile, decode_attachment, write_blob
from kefu.services.search import index as search_index
from kefu.services.search.tokens import index_text
from kefu.services.sla import clocks as sla

log = logging.getLogger(__name__)

SUBJECT_LENGTH = 60
DONE_STATUSES = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})


@dataclass(frozen=True)
class Sender:
    external_id: str
    name: str = ""
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """The common model every channel adapter produces for one customer message."""

    channel: str
    external_id: str
    sender: Sender
    text: str
    html: str | None = None
    subject: str | None = None
    ticket_id: int | None = None
    attachments: list[AttachmentIn] = field(default_factory=list)
    # A ticket this message opens: the web chat widget it came through and the group that widget
    # routes to (None: the shared queue, routed by the rules).
    webchat_channel_id: int | None = None
    group_id: int | None = None
    # Custom field values an integration sends with the message (the order number …), by key:
    # checked before any row is made, set on the ticket after (services/fields/values.py).
    fields: dict[str, Any] = field(default_factory=dict)
    # A case this message opens is held by the answering bot (services/bot/): out of the queues
    # and the SLA sweep until the bot hands it off.
    bot_holds: bool = False


@dataclass(frozen=True)
class Delivery:
    """One message as it arrived: who sent it in (the integration's actor), raw and parsed."""

    actor: Actor
    message: InboundMessage
    raw: str
    received_at: datetime
    analysis: Analysis | None = None  # read before the batch's transaction (analyze_deliveries)
    analysis_error: str | None = None  # the analysis raised: stored unanalyzed, retried later
    search_terms: str | None = None  # the message's search terms (services/search/), read with it

    @property
    def key(self) -> tuple[str, str]:
        return self.message.channel, self.message.external_id


def analyze_deliveries(
    deliveries: Sequence[Delivery], analysis: Callable[[], Analyzer] = analyzer
) -> list[Delivery]:
    """The deliveries with their message analysis: CPU work, best done before any database lock.
    ``analysis`` gives the analyzer to use (default: the fast path of the shipped models).

    Failures are per message: if the batch analysis raises, the messages are analyzed one by
    one, and one that still raises carries its ``analysis_error`` instead; it is stored all the
    same and analyzed again later (services/intake/analysis_retry.py). The message's search
    terms are worked out here too, outside the transaction that writes them."""
    return [
        d if d.search_terms is not None else replace(d, search_terms=index_text(d.message.text))
        for d in _analyzed(deliveries, analysis)
    ]


def _analyzed(deliveries: Sequence[Delivery], analysis: Callable[[], Analyzer]) -> list[Delivery]:
    todo = [d for d in deliveries if d.analysis is None and d.analysis_error is None]
    if not todo:
        return list(deliveries)
    done: dict[int, Delivery] = {}
    try:
        analyses = analysis().analyze_batch([d.message.text for d in todo])
        done = {id(d): replace(d, analysis=a) for d, a in zip(todo, analyses, strict=True)}
    except Exception:
        log.warning(
            "analysis of a batch of %d messages failed; one by one", len(todo), exc_info=True
        )
        for d in todo:
            done[id(d)] = _analyze_one(d, analysis)
    return [done.get(id(d), d) for d in deliveries]


def _analyze_one(delivery: Delivery, analysis: Callable[[], Analyzer]) -> Delivery:
    channel, external_id = delivery.key
    try:
        return replace(delivery, analysis=analysis().analyze(delivery.message.text))
    except Exception as e:
        log.error("analysis of %s message %s failed", channel, external_id, exc_info=True)
        return replace(delivery, analysis_error=f"{type(e).__name__}: {e}"[:2000])


@dataclass(frozen=True)
class InboundResult:
    ticket_id: int
    message_id: int
    customer_id: int
    duplicate: bool


Outcome = InboundResult | KefuError


@dataclass(frozen=True)
class AttachmentLimits:
    root: Path
    max_bytes: int


@dataclass(frozen=True)
class CaseRules:
    """How intake treats customers who write again (settings: case_reopen_days, repeat_complaint_days)."""

    reopen_window: timedelta = timedelta(days=7)
    repeat_window: timedelta = repeat_complaints.WINDOW
    link_window: timedelta = timedelta(
        days=90
    )  # a new case links to the customer's last one this recent


def receive_inbound(
    session: Session,
    actor: Actor,
    message: InboundMessage,
    *,
    raw: str,
    attachments_root: Path,
    max_attachment_bytes: int,
    received_at: datetime | None = None,
    rules: CaseRules | None = None,
) -> InboundResult:
    """Take one message in the session's transaction; raise its ``KefuError`` if it has one.

    ``received_at`` is when the message arrived (default: now); importers of history and
    the demo pass the original time. If the delivery is refused, the transaction (with the
    payload and its error) is committed before raising, so the raw payload is kept.
    """
    delivery = Delivery(actor, message, raw, received_at or utcnow())
    [outcome] = receive_batch(
        session, [delivery], AttachmentLimits(attachments_root, max_attachment_bytes), rules
    )
    if isinstance(outcome, KefuError):
        session.commit()
        raise outcome
    return outcome


def receive_batch(
    session: Session,
    deliveries: Sequence[Delivery],
    limits: AttachmentLimits,
    rules: CaseRules | None = None,
) -> list[Outcome]:
    """The outcome of each delivery, in order; see the module docstring."""
    return _Batch(session, deliveries, limits, rules or CaseRules()).run()


def store_failed(session: Session, delivery: Delivery, error: str) -> None:
    """Keep the raw payload of a delivery whose processing failed, with the error, and commit."""
    channel, external_id = delivery.key
    payload = session.scalar(
        select(InboundPayload).where(
            InboundPayload.channel == channel, InboundPayload.external_id == external_id
        )
    )
    if payload is None:
        payload = InboundPayload(
            channel=channel, external_id=external_id, received_at=delivery.received_at
        )
        session.add(payload)
    payload.payload, payload.error = delivery.raw, error[:2000]
    payload.integration_id = delivery.actor.integration_id
    session.commit()


@dataclass
class _Item:
    """A delivery being processed, and what the batch learns about it."""

    index: int
    delivery: Delivery
    payload_id: int | None = None
    retried: bool = False  # its payload was stored by an earlier delivery that failed
    files: list[tuple[bytes, StoredFile]] = field(default_factory=list)
    customer_id: int = 0
    new_customer: bool = False
    ticket: _TicketPlan | None = None
    message_id: int = 0
    analysis: Analysis | None = None

    @property
    def message(self) -> InboundMessage:
        return self.delivery.message

    @property
    def now(self) -> datetime:
        return self.delivery.received_at


@dataclass
class _TicketPlan:
    """A ticket as this batch plans it: the planner's view (domain/case_planner.py), and what the
    batch must write and audit about it. The read-only properties are what the writers read."""

    state: planner.TicketState
    original: planner.TicketState | None = None  # as stored before this batch (None: opened here)
    created_by: _Item | None = None  # the item that opens it
    touched: bool = False
    before_triage: TicketTriage | None = None  # before a later message of this batch changed it
    reasons: dict[str, str] = field(
        default_factory=dict
    )  # why its priority and risks changed since
    opened_with: TicketTriage | None = (
        None  # a ticket opened in this batch: its first message's triage
    )
    opening_reasons: dict[str, str] = field(default_factory=dict)
    case_moved: bool = False  # stage, path or waiting changed (not by a reopen)
    reopened: bool = False
    steps: list[tuple[_Item, str]] = field(default_factory=list)  # to audit: reopened, resume, …
    links: list[tuple[int, str]] = field(default_factory=list)  # (earlier ticket id, kind)

    @property
    def id(self) -> int | None:
        return self.state.id

    @property
    def status(self) -> str:
        return self.state.status.value

    @property
    def customer_id(self) -> int:
        return self.state.customer_id

    @property
    def triage(self) -> TicketTriage:
        return self.state.triage

    @property
    def last_message_at(self) -> datetime:
        assert self.state.last_message_at is not None
        return self.state.last_message_at

    @property
    def awaiting_reply_since(self) -> datetime | None:
        return self.state.awaiting_reply_since

    @property
    def sla_pauses(self) -> list[list[str | None]]:
        return sla.encode_pauses(self.state.pauses)

    @property
    def group_id(self) -> int | None:
        return self.state.group_id

    @property
    def assignee_id(self) -> int | None:
        return self.state.assignee_id

    @property
    def case_path(self) -> str:
        return self.state.case.path.value

    @property
    def stage(self) -> str:
        return self.state.case.stage.value

    @property
    def waiting_on(self) -> str | None:
        return self.state.case.waiting.value if self.state.case.waiting else None

    @property
    def repeat_complaint(self) -> bool:
        return self.state.repeat_complaint

    @property
    def route_again(self) -> bool:
        return self.state.route_again

    @property
    def merged_into_id(self) -> int | None:
        return self.state.merged_into_id


class _Batch:
    def __init__(
        self,
        session: Session,
        deliveries: Sequence[Delivery],
        limits: AttachmentLimits,
        rules: CaseRules,
    ) -> None:
        self.session = session
        self.rules = rules
        self.conn: Connection = session.connection()
        self.dialect = self.conn.dialect.name
        self.deliveries = deliveries
        self.limits = limits
        self.outcomes: list[Outcome | None] = [None] * len(deliveries)
        self.failed: list[tuple[_Item, KefuError]] = []
        self.ticket_updates: list[dict[str, Any]] = []
        # domain events, published after commit (services/events/unit_of_work.py)
        self.told: list[ev.Event] = []
        self.policy = cw.Policy(
            reopen_window=rules.reopen_window
        )  # the loop's rules for this batch
        self.audit_rows: list[dict[str, Any]] = []

    def run(self) -> list[Outcome]:
        first: dict[tuple[str, str], int] = {}
        repeats: list[tuple[int, int]] = []
        for i, delivery in enumerate(self.deliveries):
            if delivery.key in first:
                repeats.append((i, first[delivery.key]))
            else:
                first[delivery.key] = i
        analyzed = analyze_deliveries(
            [self.deliveries[i] for i in first.values()]
        )  # a no-op when done before
        items = [
            _Item(i, delivery, analysis=delivery.analysis)
            for i, delivery in zip(first.values(), analyzed, strict=True)
        ]

        items = self._store_payloads(items)
        items = self._check_attachments(items)
        items = self._check_fields(items)
        if items:
            self._resolve_customers(items)
            items = self._plan_tickets(items)
        if items:
            self._insert_tickets(items)
            self._insert_messages(items)
            self._insert_attachments(items)
            self._audit_events(items)
            self._finish(items)
            self._index(items)
            self._set_fields(items)  # after the index: it indexes the ticket with its values
            self._tell(items)
        self._mark_failed()

        for i, j in repeats:  # the same message twice in one batch: a redelivery
            seen = self.outcomes[j]
            if not isinstance(seen, InboundResult):
                self.outcomes[i] = seen
            elif self.deliveries[i].actor.integration_id != self.deliveries[j].actor.integration_id:
                self.outcomes[i] = _another_integrations()
            else:
                self.outcomes[i] = replace(seen, duplicate=True)
        assert all(o is not None for o in self.outcomes)
        return self.outcomes  # type: ignore[return-value]

    # --- 1. raw payloads first ----------------------------------------------------------

    def _store_payloads(self, items: list[_Item]) -> list[_Item]:
        """Write the raw payloads; settle redeliveries. Returns the items to process."""
        rows = self.conn.execute(
            q.insert_payloads(self.dialect),
            [
                {"channel": it.delivery.key[0], "external_id": it.delivery.key[1], "payload": it.delivery.raw,
                 "received_at": it.now, "integration_id": it.delivery.actor.integration_id}
                for it in items
            ],
        ).all()  # fmt: skip
        stored = {(r.channel, r.external_id): r.id for r in rows}
        for it in items:
            it.payload_id = stored.get(it.delivery.key)
        earlier = [it for it in items if it.payload_id is None]
        if not earlier:
            return items
        # Stored before: a redelivery, a concurrent delivery (PostgreSQL waited for it to
        # commit), or an earlier delivery whose processing failed. Lock the rows and look.
        keys = {it.delivery.key for it in earlier}
        locked = {
            (r.channel, r.external_id): (r.id, r.integration_id)
            for r in q.rows_by_keys(self.conn, "lock_payloads", keys)
        }
        messages = {
            (r.channel, r.external_id): r for r in q.rows_by_keys(self.conn, "messages", keys)
        }
        for it in earlier:
            seen = messages.get(it.delivery.key)
            payload_id, delivered_by = locked[it.delivery.key]
            if seen is None:
                it.payload_id, it.retried = payload_id, True
            elif delivered_by != it.delivery.actor.integration_id:
                self.outcomes[it.index] = _another_integrations()
            else:
                self.outcomes[it.index] = InboundResult(
                    seen.ticket_id, seen.id, seen.author_customer_id, duplicate=True
                )
        return [it for it in items if self.outcomes[it.index] is None]

    # --- 2. what can be refused before any row is made -----------------------------------

    def _check_attachments(self, items: list[_Item]) -> list[_Item]:
        for it in items:
            try:
                it.files = [
                    decode_attachment(a, max_bytes=self.limits.max_bytes)
                    for a in it.message.attachments
                ]
            except KefuError as e:
                self._refuse(it, e)
        return [it for it in items if self.outcomes[it.index] is None]

    def _check_fields(self, items: list[_Item]) -> list[_Item]:
        """Field values that fit no active field of any group refuse their message (422)."""
        if not any(it.message.fields for it in items):
            return items
        for it in items:
            if it.message.fields:
                try:
                    field_values.checked_values(self.session, None, {}, it.message.fields)
                except KefuError as e:
                    self._refuse(it, e)
        return [it for it in items if self.outcomes[it.index] is None]

    def _set_fields(self, items: list[_Item]) -> None:
        """The checked field values onto their tickets, as an integration's change (audited)."""
        for it in items:
            if it.message.fields and it.ticket is not None and it.ticket.id is not None:
                ticket = self.session.get(Ticket, it.ticket.id, populate_existing=True)
                assert ticket is not None
                field_values.do_set_fields_applying(
                    self.session, it.delivery.actor, ticket, it.message.fields
                )

    def _refuse(self, item: _Item, error: KefuError) -> None:
        self.outcomes[item.index] = error
        self.failed.append((item, error))

    # --- 3. customers --------------------------------------------------------------------

    def _resolve_customers(self, items: list[_Item]) -> None:
        by_sender: dict[tuple[str, str], list[_Item]] = {}
        for it in items:
            by_sender.setdefault((it.message.channel, it.message.sender.external_id), []).append(it)
        known = self._customers_of(set(by_sender))
        new = [key for key in by_sender if key not in known]
        if new:
            known.update(self._create_customers(new, by_sender))
        customer_ids = sorted(set(known.values()))
        if self.dialect == "postgresql":
            # Serialise intake per customer: a concurrent batch for the same customer waits
            # here, then sees the ticket this one opens. Sorted, so batches cannot deadlock.
            self.conn.execute(q.lock_customers(self.dialect), {"ids": customer_ids}).all()
        for key, group in by_sender.items():
            for it in group:
                it.customer_id = known[key]

    def _customers_of(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {
            (r.channel, r.external_id): r.customer_id
            for r in q.rows_by_keys(self.conn, "identities", keys)
        }

    def _create_customers(
        self, keys: list[tuple[str, str]], by_sender: dict[tuple[str, str], list[_Item]]
    ) -> dict[tuple[str, str], int]:
        senders = [by_sender[key][0] for key in keys]
        rows = []
        for it in senders:
            sender = it.message.sender
            rows.append({
                "name": sender.name or sender.external_id, "email": sender.email.lower() if sender.email else None,
                "phone": sender.phone, "note": "", "language": "zh-CN", "created_at": it.now, "updated_at": it.now,
            })  # fmt: skip
        ids = self.conn.execute(q.INSERT_CUSTOMERS, rows).scalars().all()
        made = self.conn.execute(
            q.insert_identities(self.dialect),
            [
                {"channel": key[0], "external_id": key[1], "customer_id": cid, "verified": False, "created_at": it.now}
                for key, cid, it in zip(keys, ids, senders, strict=True)
            ],
        ).all()  # fmt: skip
        created = {(r.channel, r.external_id): r.customer_id for r in made}
        lost = [(key, cid) for key, cid in zip(keys, ids, strict=True) if key not in created]
        if lost:
            # Another transaction created these identities first: use its customers.
            self.conn.execute(q.DELETE_CUSTOMERS, {"ids": [cid for _, cid in lost]})
            created.update(self._customers_of({key for key, _ in lost}))
        lost_keys = {key for key, _ in lost}
        for key in keys:
            if key not in lost_keys:
                by_sender[key][0].new_customer = True
        return created

    # --- 4. tickets ----------------------------------------------------------------------

    def _plan_tickets(self, items: list[_Item]) -> list[_Item]:
        """Give every item its ticket: the one it names (or the case it was merged into), the
        open one, the last resolved one if the customer reopens it, or a new one."""
        named_ids = {it.message.ticket_id for it in items if it.message.ticket_id is not None}
        tickets: dict[int, _TicketPlan] = {}
        while named_ids:  # a merged ticket's messages go to the case it was merged into
            merged: set[int] = set()
            for r in self.conn.execute(q.tickets_by_id(self.dialect), {"ids": sorted(named_ids)}):
                tickets[r.id] = _plan_of(r)
                if r.merged_into_id is not None and r.merged_into_id not in tickets:
                    merged.add(r.merged_into_id)
            named_ids = merged
        open_now: dict[tuple[int, str], _TicketPlan] = {}
        customer_ids = sorted({it.customer_id for it in items})
        for r in self.conn.execute(
            q.open_tickets_of_customers(self.dialect), {"ids": customer_ids}
        ):  # newest first
            if (r.customer_id, r.channel) not in open_now:
                open_now[(r.customer_id, r.channel)] = tickets.setdefault(r.id, _plan_of(r))
        done_last = self._last_done_tickets(items, open_now, tickets)

        for it in items:
            plan: _TicketPlan | None
            if it.message.ticket_id is not None:
                plan = tickets.get(it.message.ticket_id)
                while plan is not None and plan.merged_into_id is not None:
                    plan = tickets.get(plan.merged_into_id)
                if plan is None or plan.customer_id != it.customer_id:
                    self._refuse(it, NotFound("ticket", details={"field": "ticket_id"}))
                    continue
            else:
                key = (it.customer_id, it.message.channel)
                plan = open_now.get(key) or done_last.get(key)
            previous = plan
            if plan is not None and plan.created_by is not it:
                plan = self._customer_wrote(it, plan)
            if plan is None:
                opened = planner.open_ticket(it.customer_id, it.message.channel, it.now)
                plan = _TicketPlan(replace(opened, group_id=it.message.group_id), created_by=it)
                if previous is not None and previous.id is not None:
                    plan.links.append((previous.id, "follow_up"))
            if it.message.ticket_id is None and plan.status not in DONE_STATUSES:
                open_now[(it.customer_id, it.message.channel)] = plan
            it.ticket = plan
            if it.analysis is not None:  # else the retry applies it once analyzed
                _apply_analysis(plan, it.analysis, opens=plan.created_by is it)
        kept = [it for it in items if self.outcomes[it.index] is None]
        self._find_repeat_complaints(kept)
        return kept

    def _last_done_tickets(
        self,
        items: list[_Item],
        open_now: dict[tuple[int, str], _TicketPlan],
        tickets: dict[int, _TicketPlan],
    ) -> dict[tuple[int, str], _TicketPlan]:
        """The customer's last case per channel that was resolved lately, where no case is open."""
        without = sorted(
            {
                it.customer_id
                for it in items
                if it.message.ticket_id is None
                and (it.customer_id, it.message.channel) not in open_now
            }
        )
        last: dict[tuple[int, str], _TicketPlan] = {}
        if not without:
            return last
        since = min(it.now for it in items) - max(self.rules.link_window, self.rules.reopen_window)
        for r in self.conn.execute(
            q.done_tickets_of_customers(self.dialect), {"ids": without, "since": since}
        ):
            if (r.customer_id, r.channel) not in last:
                last[(r.customer_id, r.channel)] = tickets.setdefault(r.id, _plan_of(r))
        return last

    def _customer_wrote(self, it: _Item, plan: _TicketPlan) -> _TicketPlan | None:
        """A customer's message on an existing case: the planner decides (resume a case waiting
        on them, reopen a resolved one, feedback during 跟进反馈). None: open a new case, which
        the caller links to this one."""
        outcome = planner.customer_wrote(plan.state, it.now, self.policy)
        if outcome.state is None:
            return None
        plan.touched = True
        plan.state = outcome.state
        if outcome.step is not None:
            plan.steps.append((it, outcome.step))
        if outcome.step == "reopened":
            plan.reopened = True
        elif outcome.step == "resume":
            plan.case_moved = True
        return plan

    def _find_repeat_complaints(self, items: list[_Item]) -> None:
        """Complaints that became complaints (or got a category) in this batch, against the
        customer's complaints of the repeat window: flag, link, raise (domain/repeat_complaints.py)."""
        plans = {id(it.ticket): (it, it.ticket) for it in items if it.ticket is not None}
        todo = [
            (it, plan)
            for it, plan in plans.values()
            if not plan.repeat_complaint
            and repeat_complaints.counts(plan.triage)
            and (
                plan.created_by is not None
                or (
                    plan.before_triage is not None
                    and (plan.before_triage.intent, plan.before_triage.category)
                    != (plan.triage.intent, plan.triage.category)
                )
            )
        ]
        if not todo:
            return
        since = min(it.now for it, _ in todo) - self.rules.repeat_window
        earlier: dict[int, list[repeat_complaints.EarlierCase]] = {}
        rows = self.conn.execute(
            q.complaints_of_customers(self.dialect),
            {"ids": sorted({p.customer_id for _, p in todo}), "since": since},
        )
        for r in rows:
            earlier.setdefault(r.customer_id, []).append(
                repeat_complaints.EarlierCase(r.id, r.category, r.created_at)
            )
        for it, plan in todo:
            mine = earlier.get(plan.customer_id, [])
            flagged, ids = planner.flag_repeat(plan.state, mine, it.now, self.rules.repeat_window)
            if not ids:
                continue
            if plan.created_by is None and plan.before_triage is None:
                plan.before_triage = plan.triage
            raised = flagged.triage
            if raised.priority != plan.triage.priority and raised.priority_reason:
                (plan.opening_reasons if plan.created_by is not None else plan.reasons)[
                    "priority"
                ] = raised.priority_reason
            plan.state = flagged
            plan.links.extend((i, "repeat_complaint") for i in ids)

    def _insert_tickets(self, items: list[_Item]) -> None:
        opening = [it for it in items if it.ticket is not None and it.ticket.created_by is it]
        if opening:
            rows = []
            for it in opening:
                assert it.ticket is not None
                rows.append({
                    "subject": _subject(it.message), "status": it.ticket.status, "channel": it.message.channel,
                    "customer_id": it.customer_id, **_triage_columns(it.ticket.triage), "reopen_count": 0,
                    "last_message_at": it.ticket.last_message_at, "created_at": it.now,
                    "updated_at": it.ticket.last_message_at, "awaiting_reply_since": it.now, "sla_pauses": [],
                    "sla_check_at": None if it.message.bot_holds else it.now, "escalations": 0, "case_path": it.ticket.case_path,
                    "stage": it.ticket.stage, "case_file": {}, "repeat_complaint": it.ticket.repeat_complaint,
                    "route_again": False, "group_id": it.message.group_id,
                    "webchat_channel_id": it.message.webchat_channel_id,
                    "bot_holds": it.message.bot_holds,
                })  # fmt: skip
            ids = self.conn.execute(q.INSERT_TICKETS, rows).scalars().all()
            for it, ticket_id in zip(opening, ids, strict=True):
                assert it.ticket is not None
                it.ticket.state = replace(it.ticket.state, id=ticket_id)
        # Tickets opened here were inserted with their final state; the ones that existed
        # before this batch move on (status, last message) and may have a new triage.
        plans = {id(it.ticket): it.ticket for it in items if it.ticket is not None}
        existing = [t for t in plans.values() if t.created_by is None]
        self.ticket_updates = [  # written by _finish
            {
                "ticket_id": t.id,
                "new_status": t.status,
                "now": t.last_message_at,
                "new_awaiting": t.awaiting_reply_since,
                "new_pauses": t.sla_pauses,
            }
            for t in existing
            if t.touched
        ]
        triaged = [
            {
                "ticket_id": t.id,
                **{f"new_{k}": v for k, v in _triage_columns(t.triage).items()},
                "new_repeat_complaint": t.repeat_complaint,
                "new_route_again": t.route_again,
            }
            for t in existing
            if t.before_triage is not None
        ]
        if triaged:
            self.conn.execute(q.TRIAGE_TICKET, triaged)
        self._write_case_loop(list(plans.values()))

    def _write_case_loop(self, plans: list[_TicketPlan]) -> None:
        """Reopened cases, moved stages, links to earlier cases, and notices of feedback."""
        reopened = [t for t in plans if t.reopened]
        if reopened:
            # The planner reopened each case from its columns; its case file (confirmation and
            # rating cleared by the loop) is the same decision on the whole stored case.
            stored = {
                r.id: r for r in self.conn.execute(q.CASE_FILES, {"ids": [t.id for t in reopened]})
            }
            policy = self.policy
            rows = []
            for t in reopened:
                at = next(it.now for it, step in t.steps if step == "reopened")
                case = cw.apply(case_of(stored[t.id]), cw.CustomerWrote(), at, policy).case
                rows.append(
                    {
                        "ticket_id": t.id,
                        "new_stage": case.stage.value,
                        "new_case_file": case_file_of(case),
                    }
                )
            self.conn.execute(q.REOPEN_CASE, rows)
            case_entries.record_reopens(self.conn, [t.id for t in reopened if t.id], utcnow())
        moved = [t for t in plans if t.case_moved and not t.reopened and t.created_by is None]
        if moved:
            self.conn.execute(
                q.MOVE_CASE,
                [
                    {
                        "ticket_id": t.id,
                        "new_stage": t.stage,
                        "new_path": t.case_path,
                        "new_waiting": t.waiting_on,
                    }
                    for t in moved
                ],
            )
        links = [
            {
                "ticket_id": t.id,
                "linked_ticket_id": linked,
                "kind": kind,
                "created_by_id": None,
                "created_at": t.last_message_at,
            }
            for t in plans
            for linked, kind in t.links
        ]
        if links:
            self.conn.execute(q.insert_links(self.dialect), links)
        # The customer answered a follow-up: the assignee is told (domain/notices.py).
        feedback = [
            (ev.CustomerFeedback(t.id, assignee_id=t.assignee_id), it.now)
            for t in plans
            for it, step in t.steps[-1:]
            if step == "customer_feedback"
        ]
        made = [
            (notice, at)
            for event, at in feedback
            for notice in notices_for(event, Audience(assignee_id=event.assignee_id))
        ]
        if made:
            notice_rows = [
                {
                    "user_id": n.user_id,
                    "ticket_id": n.ticket_id,
                    "kind": n.kind,
                    "body": n.body,
                    "created_at": at,
                }
                for n, at in made
            ]
            ids = self.conn.execute(q.INSERT_NOTIFICATIONS, notice_rows).scalars().all()
            self.told.extend(
                ev.NoticeCreated(n.ticket_id, notification_id=i, user_id=n.user_id, kind=n.kind)
                for (n, _), i in zip(made, ids, strict=True)
            )
        self.told.extend(event for event, _ in feedback)

    # --- 5. messages, attachments, audit, payload state ------------------------------------

    def _insert_messages(self, items: list[_Item]) -> None:
        rows = []
        for it in items:
            m = it.message
            assert it.ticket is not None and it.ticket.id is not None
            rows.append({
                "ticket_id": it.ticket.id, "channel": m.channel, "direction": Direction.INBOUND.value,
                "author_type": AuthorType.CUSTOMER.value, "author_user_id": None, "author_customer_id": it.customer_id,
                "body_text": m.text, "body_html": sanitize_html(m.html) if m.html else text_to_html(m.text),
                "external_id": m.external_id, "analysis": it.analysis.to_json() if it.analysis else None, "created_at": it.now,
                **_analysis_retry_columns(it.delivery.analysis_error, it.now),
            })  # fmt: skip
        ids = self.conn.execute(q.INSERT_MESSAGES, rows).scalars().all()
        for it, message_id in zip(items, ids, strict=True):
            it.message_id = message_id
            assert it.ticket is not None and it.ticket.id is not None
            self.outcomes[it.index] = InboundResult(
                it.ticket.id, message_id, it.customer_id, duplicate=False
            )

    def _insert_attachments(self, items: list[_Item]) -> None:
        rows = []
        for it in items:
            for data, meta in it.files:
                write_blob(self.limits.root, data, meta.sha256)
                rows.append({
                    "message_id": it.message_id, "filename": meta.filename, "content_type": meta.content_type,
                    "size": meta.size, "sha256": meta.sha256, "created_at": it.now,
                })  # fmt: skip
        if rows:
            self.conn.execute(q.INSERT_ATTACHMENTS, rows)

    def _audit_events(self, items: list[_Item]) -> None:
        rows: list[dict[str, Any]] = []
        # One ticket.triage event per ticket whose case changed, after its last message of the batch.
        last_of: dict[int, _Item] = {id(it.ticket): it for it in items}
        for it in items:
            assert it.ticket is not None and it.ticket.id is not None
            ticket_id, m = it.ticket.id, it.message
            if it.new_customer:
                rows.append(_audit(it, "customer.create", object_type="customer", object_id=it.customer_id, ticket_id=None,
                                   after={"name": m.sender.name or m.sender.external_id, "identities": [f"{m.channel}:{m.sender.external_id}"]}))  # fmt: skip
            if it.ticket.created_by is it:
                rows.append(_audit(it, "ticket.create", object_type="ticket", object_id=ticket_id, ticket_id=ticket_id,
                                   after={"subject": _subject(m), "status": TicketStatus.NEW.value, "channel": m.channel, "customer_id": it.customer_id,
                                          **(it.ticket.opened_with or it.ticket.triage).to_json(), "reasons": it.ticket.opening_reasons}))  # fmt: skip
            rows.append(_audit(it, "ticket.inbound", object_type="message", object_id=it.message_id, ticket_id=ticket_id,
                               after={"message_id": it.message_id, "channel": m.channel, "external_id": m.external_id}))  # fmt: skip
            plan = it.ticket
            for step_item, step in plan.steps:
                if step_item is it:
                    rows.append(_audit(it, "case.step", object_type="ticket", object_id=ticket_id, ticket_id=ticket_id,
                                       after={"step": step, "stage": plan.stage, "status": plan.status, "message_id": it.message_id}))  # fmt: skip
            if last_of[id(plan)] is not it:
                continue
            if plan.before_triage is not None and message_triage.case_changed(
                plan.before_triage, plan.triage
            ):
                rows.append(_audit(it, "ticket.triage", object_type="ticket", object_id=ticket_id, ticket_id=ticket_id,
                                   before=plan.before_triage.to_json(), after={**plan.triage.to_json(), "reasons": plan.reasons}))  # fmt: skip
            for linked, kind in plan.links:
                rows.append(_audit(it, "ticket.link", object_type="ticket", object_id=ticket_id, ticket_id=ticket_id,
                                   after={"kind": kind, "linked_ticket_id": linked}))  # fmt: skip
        self.audit_rows = rows  # written by _finish

    def _finish(self, items: list[_Item]) -> None:
        """Ticket moves, audit events and processed payloads, in one go."""
        done = [
            {
                "payload_id": it.payload_id,
                "now": it.now,
                "new_message_id": it.message_id,
                "new_ticket_id": it.ticket.id if it.ticket else None,
            }
            for it in items
        ]
        q.finish_batch(self.conn, self.ticket_updates, self.audit_rows, done)
        retried = [
            {"payload_id": it.payload_id, "raw": it.delivery.raw, "integration_id": it.delivery.actor.integration_id}
            for it in items
            if it.retried
        ]  # fmt: skip
        if retried:  # keep the payload that was processed, not the one that failed
            self.conn.execute(q.REPLACE_PAYLOAD, retried)

    def _index(self, items: list[_Item]) -> None:
        """The search documents of the new messages, tickets and customers, in one statement."""
        docs = []
        for it in items:
            m, plan = it.message, it.ticket
            assert plan is not None and plan.id is not None
            terms = it.delivery.search_terms
            if terms is None:  # not read before the batch
                terms = index_text(m.text)
            docs.append(search_index.Doc(search_index.MESSAGE, it.message_id, plan.id, terms))
            if plan.created_by is it:
                docs.append(search_index.ticket_doc(plan.id, _subject(m)))
            if it.new_customer:
                sender = m.sender
                docs.append(search_index.customer_doc(
                    it.customer_id, name=sender.name or sender.external_id,
                    email=sender.email.lower() if sender.email else None, phone=sender.phone,
                    identities=[sender.external_id],
                ))  # fmt: skip
        search_index.write(self.conn, docs)

    def _tell(self, items: list[_Item]) -> None:
        """The batch's domain events, into the session's unit of work: new cases, messages,
        changed cases and the steps of their loop (the same events the services record)."""
        told: list[ev.Event] = []
        plans: dict[int, _TicketPlan] = {}
        for it in items:
            plan = it.ticket
            assert plan is not None and plan.id is not None
            if plan.created_by is it:
                told.append(ev.TicketOpened(plan.id, customer_id=it.customer_id,
                                            channel=it.message.channel, priority=plan.triage.priority))  # fmt: skip
            told.append(ev.MessageAdded(plan.id, message_id=it.message_id, direction="inbound"))
            told.extend(ev.CaseStepTaken(plan.id, step=step, stage=plan.stage)
                        for step_item, step in plan.steps if step_item is it)  # fmt: skip
            plans[id(plan)] = plan
        for plan in plans.values():
            changed = _changed_fields(plan)
            if changed:
                told.append(ev.TicketChanged(plan.id, fields=changed))
        events.record(self.session, *told, *self.told, notify=False)

    def _mark_failed(self) -> None:
        if self.failed:
            self.conn.execute(
                q.MARK_PAYLOAD_FAILED,
                [{"payload_id": it.payload_id, "raw": it.delivery.raw, "error": f"{e.code}: {e.details or ''}"[:2000],
                  "integration_id": it.delivery.actor.integration_id} for it, e in self.failed],
            )  # fmt: skip


TRIAGE_FIELDS = ("priority", "risks", "intent", "category", "emotion", "sentiment")


def _changed_fields(plan: _TicketPlan) -> tuple[str, ...]:
    """What a customer's messages changed on a ticket that existed before the batch."""
    was, now = plan.original, plan.state
    if was is None or was is now:
        return ()
    fields = [
        name
        for name, before, after in (
            ("status", was.status, now.status),
            ("stage", was.case.stage, now.case.stage),
            ("case_path", was.case.path, now.case.path),
            ("waiting_on", was.case.waiting, now.case.waiting),
            ("repeat_complaint", was.repeat_complaint, now.repeat_complaint),
            ("route_again", was.route_again, now.route_again),
        )
        if before != after
    ]
    if was.triage != now.triage:
        fields += [f for f in TRIAGE_FIELDS if getattr(was.triage, f) != getattr(now.triage, f)]
    return tuple(fields)


def _plan_of(row: Any) -> _TicketPlan:
    """A ticket of this customer's, as the planner sees it (its case file is read only when the
    customer reopens it: ``_write_case_loop``)."""
    case = cw.Case(
        cw.CasePath(row.case_path),
        cw.Stage(row.stage),
        resolved_at=row.resolved_at,
        waiting=cw.Waiting(row.waiting_on) if row.waiting_on else None,
    )
    state = planner.TicketState(
        row.id,
        row.customer_id,
        row.channel,
        status=TicketStatus(row.status),
        case=case,
        triage=TicketTriage.of(row),
        group_id=row.group_id,
        assignee_id=row.assignee_id,
        awaiting_reply_since=row.awaiting_reply_since,
        pauses=sla.decode_pauses(row.sla_pauses),
        last_message_at=row.last_message_at,
        repeat_complaint=row.repeat_complaint,
        merged_into_id=row.merged_into_id,
    )
    return _TicketPlan(state, original=state)


def _apply_analysis(plan: _TicketPlan, analysis: Analysis, *, opens: bool) -> None:
    """One message's analysis on its ticket, as the planner decides (domain/case_planner.py)."""
    before = plan.triage
    result = planner.apply_analysis(
        plan.state,
        message_triage.triage_of(analysis),
        message_triage.explanations(analysis),
        opens=opens,
    )
    if result.state is plan.state:  # the planner hands back the same state when nothing changed
        return
    if not opens and plan.before_triage is None:
        plan.before_triage = before
    plan.state = result.state
    if opens:
        plan.opening_reasons = planner.merge_reasons(plan.opening_reasons, result.reasons)
        plan.opened_with = result.state.triage
    else:
        plan.reasons = planner.merge_reasons(plan.reasons, result.reasons)
    plan.case_moved = plan.case_moved or result.case_moved


def _analysis_retry_columns(error: str | None, now: datetime) -> dict[str, Any]:
    """The message's flag for the retry: set when its analysis raised (services/intake/analysis_retry.py)."""
    if error is None:
        return {"analysis_error": None, "analysis_attempts": 0, "analysis_retry_at": None}
    return {
        "analysis_error": error,
        "analysis_attempts": 1,
        "analysis_retry_at": now + analysis_retry.delay_after(1),
    }


def _triage_columns(t: TicketTriage) -> dict[str, Any]:
    return {
        "priority": t.priority,
        "risks": list(t.risks),
        "intent": t.intent,
        "category": t.category,
        "emotion": t.emotion,
        "sentiment": t.sentiment,
        "priority_reason": t.priority_reason,
    }


def _audit(
    item: _Item,
    action: str,
    *,
    object_type: str,
    object_id: int,
    ticket_id: int | None,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    actor = item.delivery.actor
    return {
        "actor_type": actor.kind,
        "actor_id": actor.audit_id,
        "via": actor.via,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ticket_id": ticket_id,
        "customer_id": item.customer_id,
        "before": before,
        "after": after,
        "created_at": item.now,
    }


def _another_integrations() -> KefuError:
    """A message another integration delivered first: its ids are not this one's to learn
    (they would name a ticket and a customer), and nothing new is stored."""
    return KefuError("duplicate_delivery", status_code=409)


def _subject(message: InboundMessage) -> str:
    if message.subject:
        return message.subject[:300]
    first_line = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    return first_line[:SUBJECT_LENGTH]
