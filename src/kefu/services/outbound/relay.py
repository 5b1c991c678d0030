"""The relay: takes due outbox rows, hands each to its channel's adapter, marks what came of it.

At least once from here, once as the receiver sees it (the receiver dedupes on the row's
idempotency key). The steps, each in its own short transaction except the send:

1. **claim** (``claim``): the due rows nobody holds — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   SQLite's single writer elsewhere — get this relay's name and a lease (``claimed_until``) and
   one more attempt, and the claim commits. Several relays, in one process or many, never hold
   one row at once; a relay killed mid-send holds its rows only until the lease runs out.
2. **send** (``send``): outside any transaction, so a slow receiver holds no lock and no
   connection.
3. **mark** (``complete``): sent (or delivered, if the channel says so at once), or failed with
   the next try after the back-off of domain/delivery.py, or dead. A relay whose lease ran out
   and whose row another relay took meanwhile marks nothing: the row is the other's now
   (``attempts`` is the fencing token).

Messages to one customer arrive in the order they were written: a row is only claimed when no
earlier row of its ticket (and channel) is still pending, and a claim takes the rows queued
behind it along (its "chain"), sent one after the other; a failure sends the rest of the chain
back untried. Different tickets are sent side by side.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from kefu import fault_points
from kefu.channels.base import (
    Adapters,
    AttachmentRef,
    DeliveryFailed,
    OutboundDelivery,
    SendResult,
)
from kefu.db.base import utcnow
from kefu.db.models import Message, OutboxEntry, User
from kefu.domain.delivery import (
    PENDING,
    DeliveryState,
    Failure,
    RetryPolicy,
    after_failure,
    after_receipt,
)
from kefu.services import audit
from kefu.services.actors import SYSTEM
from kefu.services.outbound import states

log = logging.getLogger(__name__)

D = DeliveryState
PENDING_VALUES = sorted(s.value for s in PENDING)
ERROR_LENGTH = 2000
DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Claimed:
    delivery: OutboundDelivery
    attempt: int  # the row's attempts once claimed: whose the row still is when marking
    lease_until: datetime


@dataclass(frozen=True)
class Outcome:
    result: SendResult | None  # None: it failed
    error: str = ""
    permanent: bool = False


@dataclass(frozen=True)
class ChainTried:
    """One chain after its sends: the rows tried with what came of them, and those kept back."""

    sent: list[tuple[Claimed, Outcome]]
    untried: list[Claimed]


@dataclass
class RelayReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0  # to be tried again
    dead: int = 0
    released: int = 0  # claimed behind a failure (or too late to send) and given back untried
    lost: int = 0  # another relay had taken the row over when this one came to mark it

    def add(self, other: RelayReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def relay_name(role: str = "relay") -> str:
    """Who holds a row: host, process and a random part (two relays of one process differ)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


class Relay:
    """Claims, sends and marks outbox rows of the channels ``adapters`` serve.

    ``sessions`` must open writer sessions (intake's: they wait for row locks as long as it
    takes), ``read_sessions`` plain ones (on SQLite a writer session takes the write lock);
    ``send_timeout`` is the longest a send may take, and a claimed row is only sent while at
    least that much of its lease is left."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        adapters: Adapters,
        *,
        read_sessions: Callable[[], Session] | None = None,
        name: str | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        lease: timedelta = timedelta(seconds=60),
        send_timeout: timedelta | None = None,
        batch: int = 32,
        chain: int = 20,
        parallel: int = 8,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions  # for looking only (no write lock)
        self._writes_lock_all: bool | None = None  # SQLite: a write transaction locks everyone
        self.adapters = adapters
        self.name = name or relay_name()
        self.policy = policy
        self.lease = lease
        self.send_timeout = send_timeout if send_timeout is not None else lease / 2
        self.batch, self.chain, self.parallel = batch, chain, parallel
        self.clock = clock
        self.rng = rng
        self._pool: ThreadPoolExecutor | None = None

    @property
    def channels(self) -> list[str]:
        return sorted(self.adapters.by_channel)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # --- the rounds ---------------------------------------------------------------------------

    def run_until_idle(self, max_rounds: int = 1000) -> RelayReport:
        """Claim and deliver until a claim comes back less than full (or ``max_rounds`` claims
        were made). A row queued meanwhile rings the relay's bell (services/outbound/service.py)
        and one that became claimable meanwhile is due at once (``seconds_until_due``): stopping
        at a short claim loses nothing, and spares SQLite's write lock an empty claim."""
        total = RelayReport()
        for _ in range(max_rounds):
            chains = self.claim()
            total.add(self.deliver(chains))
            if len(chains) < self.batch:
                break
        return total

    def run_once(self) -> RelayReport:
        """One claim, and every claimed row sent and marked."""
        return self.deliver(self.claim())

    def deliver(self, chains: Sequence[Sequence[Claimed]]) -> RelayReport:
        """Send claimed rows, each chain in order and the chains side by side, then mark them
        all in one transaction: a busy relay spends one commit on a whole claim, not one per
        message. A relay that dies before marking sends those rows again once their lease runs
        out; every channel shows a message once however often it is sent (its idempotency key)."""
        report = RelayReport(claimed=sum(len(c) for c in chains))
        if len(chains) == 1 or self.parallel <= 1:
            tried = [self.send_chain(chain) for chain in chains]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="kefu-relay-send")
            tried = list(self._pool.map(self.send_chain, chains))
        report.add(self.mark(tried))
        return report

    def send_chain(self, chain: Sequence[Claimed]) -> ChainTried:
        """Send one ticket's rows in order; the first that fails keeps the rest back, and so
        does a lease about to run out (another relay may take them)."""
        sent: list[tuple[Claimed, Outcome]] = []
        for index, claimed in enumerate(chain):
            if self.clock() + self.send_timeout > claimed.lease_until:
                return ChainTried(sent, list(chain[index:]))
            outcome = self.send(claimed.delivery)
            sent.append((claimed, outcome))
            if outcome.result is None:
                return ChainTried(sent, list(chain[index + 1 :]))
        return ChainTried(sent, [])

    def mark(self, tried: Sequence[ChainTried]) -> RelayReport:
        """Mark what was sent and give back what was not, in one transaction (rows in id order,
        as receipts lock them, so that the two never wait on each other)."""
        report = RelayReport()
        done = sorted(
            (pair for t in tried for pair in t.sent), key=lambda p: p[0].delivery.outbox_id
        )
        untried = sorted((c for t in tried for c in t.untried), key=lambda c: c.delivery.outbox_id)
        if not done and not untried:
            return report
        now = self.clock()
        with self.sessions() as session:
            for claimed, outcome in done:
                marked = self._complete_in(session, claimed, outcome, now)
                setattr(report, marked, getattr(report, marked) + 1)
            report.released += self._release_in(session, untried)
            session.commit()
        fault_points.reached("outbox.after_mark")
        return report

    # --- claim --------------------------------------------------------------------------------

    def claim(self) -> list[list[Claimed]]:
        """Take the due rows (each with the rows queued behind it on its ticket), commit."""
        if not self.adapters.by_channel:
            return []
        if self._writes_lock_all is None:
            with self.read_sessions() as session:
                self._writes_lock_all = session.get_bind().dialect.name == "sqlite"
        now = self.clock()
        if self._writes_lock_all and not self._anything_due(now):
            return []
        with self.sessions() as session:
            heads = list(session.scalars(self._due_heads(session, now)))
            followers = self._followers(session, heads, now)
            chains = [[head, *followers.get(head.id, [])] for head in heads]
            lease_until = now + self.lease
            for entry in (e for chain in chains for e in chain):
                entry.claimed_by, entry.claimed_until = self.name, lease_until
                entry.attempts += 1
            session.flush()
            deliveries = _deliveries(session, [e for chain in chains for e in chain])
            claimed = [
                [Claimed(deliveries[e.id], e.attempts, lease_until) for e in chain]
                for chain in chains
            ]
            session.commit()
        if claimed:
            fault_points.reached("outbox.after_claim")
        return claimed

    def _anything_due(self, now: datetime) -> bool:
        """Whether a claim would find a row, looked up without a write transaction: on SQLite a
        writer session takes the database's write lock at its start, and an idle relay taking it
        for nothing makes another connection's read-then-write fail at once (SQLITE_BUSY). On
        PostgreSQL an empty claim locks nothing, so it is not asked there."""
        with self.read_sessions() as session:
            found = session.scalar(
                select(OutboxEntry.id).where(*_claimable(now, self.channels)).limit(1)
            )
            session.rollback()
        return found is not None

    def _due_heads(self, session: Session, now: datetime) -> Select[OutboxEntry]:
        o = OutboxEntry
        query = (
            select(o)
            .where(*_claimable(now, self.channels))
            .order_by(o.next_attempt_at, o.id)
            .limit(self.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=o)
        return query

    def _followers(
        self, session: Session, heads: list[OutboxEntry], now: datetime
    ) -> dict[int, list[OutboxEntry]]:
        """For each head, the pending rows queued behind it on its ticket that may go with it (in
        one query). Nobody else can claim them while their head is pending, so their locks are
        waited for, not skipped; a ticket with more than the query brings sends the rest with a
        later claim."""
        tickets = {h.ticket_id for h in heads if h.ticket_id is not None}
        if self.chain <= 1 or not tickets:
            return {}
        o = OutboxEntry
        query = (
            select(o)
            .where(
                o.ticket_id.in_(tickets),
                o.state.in_(PENDING_VALUES),
                o.id.not_in([h.id for h in heads]),
            )
            .order_by(o.ticket_id, o.id)
            .limit(self.batch * self.chain)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=o)
        behind: dict[tuple[int | None, str], list[OutboxEntry]] = {}
        for entry in session.scalars(query):
            behind.setdefault((entry.ticket_id, entry.channel), []).append(entry)
        chains = {}
        for head in heads:
            taken: list[OutboxEntry] = []
            for entry in behind.get((head.ticket_id, head.channel), []):
                due = entry.next_attempt_at is not None and entry.next_attempt_at <= now
                free = entry.claimed_until is None or entry.claimed_until <= now
                if len(taken) == self.chain - 1 or entry.id < head.id or not (due and free):
                    break  # keep the order: nothing behind a row that is not going now
                taken.append(entry)
            chains[head.id] = taken
        return chains

    def seconds_until_due(self, cap: float) -> float:
        """How long until a row this relay could claim comes due (a retry, or a lease that runs
        out), at most ``cap``."""
        if not self.adapters.by_channel:
            return cap
        now = self.clock()
        o = OutboxEntry
        with self.read_sessions() as session:
            # Due already counts too: it may have come due since this relay's last claim.
            retry_at = session.scalar(
                select(func.min(o.next_attempt_at)).where(
                    *_claimable(None, self.channels),
                    or_(o.claimed_until.is_(None), o.claimed_until <= now),
                )
            )
            lease_ends = session.scalar(
                select(func.min(o.claimed_until)).where(
                    o.state.in_(PENDING_VALUES),
                    o.channel.in_(self.channels),
                    o.claimed_until > now,
                )
            )
            session.rollback()
        moments = [m for m in (retry_at, lease_ends) if m is not None]
        if not moments:
            return cap
        return max(0.0, min(cap, (min(moments) - now).total_seconds()))

    # --- send ---------------------------------------------------------------------------------

    def send(self, delivery: OutboundDelivery) -> Outcome:
        adapter = self.adapters.get(delivery.channel)
        if adapter is None:  # cannot happen for a row this relay claimed; said plainly if it does
            return Outcome(None, f"no adapter for channel {delivery.channel}")
        try:
            outcome = Outcome(adapter.send(delivery))
        except DeliveryFailed as e:
            log.warning(
                "outbox %d (%s) attempt %d failed%s: %s", delivery.outbox_id, delivery.channel,
                delivery.attempt, " for good" if e.permanent else "", e.reason,
            )  # fmt: skip
            return Outcome(None, e.reason, e.permanent)
        except Exception as e:  # an adapter's bug or an unexpected error: tried again
            log.exception("outbox %d (%s) adapter raised", delivery.outbox_id, delivery.channel)
            return Outcome(None, f"{type(e).__name__}: {e}")
        fault_points.reached("outbox.after_send")
        return outcome

    # --- mark ---------------------------------------------------------------------------------

    def complete(self, claimed: Claimed, outcome: Outcome) -> str:
        """Mark one row after a send; returns "sent", "failed", "dead" or "lost"."""
        with self.sessions() as session:
            marked = self._complete_in(session, claimed, outcome, self.clock())
            session.commit()
        return marked

    def _complete_in(
        self, session: Session, claimed: Claimed, outcome: Outcome, now: datetime
    ) -> str:
        entry = _locked(session, claimed.delivery.outbox_id)
        if entry is None:  # its message was deleted meanwhile
            return "lost"
        ours = entry.claimed_by == self.name and entry.attempts == claimed.attempt
        if ours:
            entry.claimed_by = entry.claimed_until = None
        if outcome.result is not None:
            return _mark_sent(session, entry, outcome.result, now)
        if ours and D(entry.state) in PENDING:
            return self._mark_failed(session, entry, outcome, now)
        return "lost"  # taken over after our lease ran out, or a receipt came first

    def _mark_failed(
        self, session: Session, entry: OutboxEntry, outcome: Outcome, now: datetime
    ) -> str:
        failure = (
            Failure(D.DEAD, None)
            if outcome.permanent
            else after_failure(entry.attempts, now, self.policy, self.rng)
        )
        entry.last_error = outcome.error[:ERROR_LENGTH]
        entry.next_attempt_at = failure.retry_at
        states.move(session, entry, failure.state, now)
        if failure.state != D.DEAD:
            return "failed"
        audit.record(
            session, SYSTEM, "outbox.dead", object_type="outbox", object_id=entry.id,
            ticket_id=entry.ticket_id,
            after={"message_id": entry.message_id, "channel": entry.channel,
                   "attempts": entry.attempts, "error": entry.last_error},
        )  # fmt: skip
        return "dead"

    def release(self, rows: Iterable[Claimed]) -> int:
        """Give claimed rows back untried: no longer held, the attempt not counted."""
        rows = list(rows)
        if not rows:
            return 0
        with self.sessions() as session:
            released = self._release_in(session, rows)
            session.commit()
        return released

    def _release_in(self, session: Session, rows: Sequence[Claimed]) -> int:
        o = OutboxEntry
        for claimed in rows:
            session.execute(
                update(o)
                .where(
                    o.id == claimed.delivery.outbox_id,
                    o.claimed_by == self.name,
                    o.attempts == claimed.attempt,
                )
                .values(claimed_by=None, claimed_until=None, attempts=o.attempts - 1)
                .execution_options(synchronize_session=False)
            )
        return len(rows)


def _claimable(now: datetime | None, channels: list[str]) -> list[ColumnElement[bool]]:
    """Pending rows of these channels, due at ``now`` (any time if None) and held by nobody,
    with no earlier row of their ticket still pending."""
    o = OutboxEntry
    conditions: list[ColumnElement[bool]] = [_PENDING, o.channel.in_(channels), _FIRST_OF_TICKET]
    if now is not None:
        conditions += [
            o.next_attempt_at <= now,
            or_(o.claimed_until.is_(None), o.claimed_until <= now),
        ]
    return conditions


def _first_of_ticket() -> ColumnElement[bool]:
    o, earlier = OutboxEntry, aliased(OutboxEntry)
    blocked = (
        select(earlier.id)
        .where(
            earlier.ticket_id == o.ticket_id,
            earlier.channel == o.channel,
            earlier.id < o.id,
            earlier.state.in_(PENDING_VALUES),
        )
        .exists()
    )
    return or_(o.ticket_id.is_(None), ~blocked)


# Built once: building the correlated subquery is most of a claim's Python time.
_PENDING = OutboxEntry.state.in_(PENDING_VALUES)
_FIRST_OF_TICKET = _first_of_ticket()


def _locked(session: Session, outbox_id: int) -> OutboxEntry | None:
    query = select(OutboxEntry).where(OutboxEntry.id == outbox_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def _mark_sent(session: Session, entry: OutboxEntry, result: SendResult, now: datetime) -> str:
    """The channel has it. A receipt may have moved the row on already (forward only)."""
    current = D(entry.state)
    target = result.state if current in PENDING else after_receipt(current, result.state)
    if result.external_ref and entry.external_ref is None:
        entry.external_ref = result.external_ref[:200]
    entry.next_attempt_at = None
    states.move(session, entry, target, now)
    return "sent"


def _deliveries(session: Session, entries: list[OutboxEntry]) -> dict[int, OutboundDelivery]:
    """What the adapters are given for these rows: their messages, authors and attachments."""
    ids = {e.message_id for e in entries if e.message_id is not None}
    messages = {
        m.id: m
        for m in session.scalars(
            select(Message).where(Message.id.in_(ids)).options(selectinload(Message.attachments))
        )
    }
    user_ids = {m.author_user_id for m in messages.values() if m.author_user_id is not None}
    names = {
        row.id: row.name
        for row in session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
    }
    out = {}
    for e in entries:
        m = messages.get(e.message_id) if e.message_id is not None else None
        out[e.id] = OutboundDelivery(
            outbox_id=e.id,
            idempotency_key=e.idempotency_key,
            channel=e.channel,
            kind=e.kind,
            target=dict(e.target or {}),
            ticket_id=e.ticket_id,
            message_id=e.message_id,
            # A row without a message (a mailbox's acknowledgement) carries its text itself.
            text=m.body_text if m else str((e.target or {}).get("text") or ""),
            html=m.body_html if m else None,
            author_name=names.get(m.author_user_id, "") if m and m.author_user_id else "",
            author_type=m.author_type if m else "",
            created_at=m.created_at if m else None,
            attachments=tuple(
                AttachmentRef(a.id, a.filename, a.content_type, a.size)
                for a in (m.attachments if m else [])
            ),
            attempt=e.attempts,
        )
    return out
