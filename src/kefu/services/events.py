"""Domain events in the unit of work: recorded with the change, published after commit.

A service calls ``record(session, *events)`` in the same transaction as the change the events
tell of. Events that make notices to staff get their notices written right there
(``services/notices.py``, one row per person, and a ``NoticeCreated`` event each). When the
session commits, everything recorded in that transaction goes to the session's bus
(``session.info[BUS]``, set by ``make_session_factory(..., bus=...)``), once; when it rolls back,
nothing does. Work that may fail alone inside a larger transaction (one ticket of a sweep)
records its events inside ``savepoint``: a rolled-back savepoint drops its events.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from kefu.domain.events import Event
from kefu.realtime.bus import EventBus

BUS = "kefu.bus"
PENDING = "kefu.pending_events"


def pending(session: Session) -> list[Event]:
    """The events recorded in the session's current transaction, not yet published."""
    events: list[Event] = session.info.setdefault(PENDING, [])
    return events


def record(session: Session, *events: Event, notify: bool = True) -> None:
    """Record events of a change made in this transaction (and write the notices they make)."""
    if not session.in_transaction():
        session.begin()  # so that a rollback or close without database work drops them too
    pending(session).extend(events)
    if notify:
        from kefu.services import notices  # notices records NoticeCreated through this module

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


def _publish(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: its events wait for the real commit
        return
    events = session.info.pop(PENDING, None)
    bus: EventBus | None = session.info.get(BUS)
    if events and bus is not None:
        bus.publish(tuple(events))


def _on_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    # Every rollback, also one with no database work done; a savepoint's is ``savepoint``'s.
    if not previous.nested:
        session.info.pop(PENDING, None)


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit publishing its events (closed): drop them.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


orm_event.listen(Session, "after_commit", _publish)
orm_event.listen(Session, "after_soft_rollback", _on_soft_rollback)
orm_event.listen(Session, "after_transaction_end", _on_transaction_end)
