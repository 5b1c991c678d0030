"""Domain events in the unit of work: recorded with the change, published after commit.

A service calls ``record(session, *events)`` in the same transaction as the change the events
tell of. Events that make notices to staff get their notices written right there
(``services/events/notices.py``, one row per person, and a ``NoticeCreated`` event each). When the
session commits, everything recorded in that transaction goes to the session's bus
(``session.info[BUS]``, set by ``make_session_factory(..., bus=...)``), once; when it rolls back,
nothing does. Just before the commit, the events that integrations subscribed to are written to
the outbox in the same transaction (``_queue_webhooks``). Work that may fail alone inside a larger transaction (one ticket of a sweep)
records its events inside ``savepoint``: a rolled-back savepoint drops its events.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from kefu.db.models import Notification
from kefu.domain.events import Event, NoticeCreated
from kefu.realtime.bus import EventBus

BUS = "kefu.bus"
PENDING = "kefu.pending_events"
LOOKUPS = "kefu.audience_lookups"  # services/events/notices.py: who to tell, looked up once per transaction


def pending(session: Session) -> list[Event | Notification]:
    """What the session's current transaction will tell after commit: events, and notice rows
    (told as ``NoticeCreated`` once the commit has given them ids)."""
    told: list[Event | Notification] = session.info.setdefault(PENDING, [])
    return told


def record(session: Session, *events: Event, notify: bool = True) -> None:
    """Record events of a change made in this transaction (and write the notices they make)."""
    if not session.in_transaction():
        session.begin()  # so that a rollback or close without database work drops them too
    pending(session).extend(events)
    if notify:
        from kefu.services.events import notices

        notices.write_for(session, events)


@contextmanager
def savepoint(session: Session) -> Iterator[SessionTransaction]:
    """A SAVEPOINT whose events are dropped with it if it rolls back."""
    mark = len(pending(session))
    try:
        with session.begin_nested() as nested:
            yield nested
    except BaseException:
        del pending(session)[mark:]
        raise


def _queue_webhooks(session: Session) -> None:
    # Just before the real commit: the outbound webhooks of the transaction's events are written
    # into it (services/webhooks/outgoing.py), so they commit with the change or not at all.
    if session.in_nested_transaction():
        return
    told = [t for t in session.info.get(PENDING, ()) if isinstance(t, Event)]
    if told:
        from kefu.services.webhooks import outgoing

        outgoing.enqueue_for(session, told)
        from kefu.services.automations import queue

        queue.queue_events(session, told)  # the event triggers' work, taken after commit


def _publish(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: its events wait for the real commit
        return
    told = session.info.pop(PENDING, None)
    session.info.pop(LOOKUPS, None)
    bus: EventBus | None = session.info.get(BUS)
    if told and bus is not None:
        bus.publish(tuple(_as_event(t) for t in told))


def _as_event(told: Event | Notification) -> Event:
    if isinstance(told, Notification):
        return NoticeCreated(
            told.ticket_id, notification_id=told.id, user_id=told.user_id, kind=told.kind
        )
    return told


def _on_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    # Every rollback, also one with no database work done; a savepoint's is ``savepoint``'s.
    if not previous.nested:
        session.info.pop(PENDING, None)
        session.info.pop(LOOKUPS, None)


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit publishing its events (closed): drop them.
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(LOOKUPS, None)


orm_event.listen(Session, "before_commit", _queue_webhooks)
orm_event.listen(Session, "after_commit", _publish)
orm_event.listen(Session, "after_soft_rollback", _on_soft_rollback)
orm_event.listen(Session, "after_transaction_end", _on_transaction_end)
