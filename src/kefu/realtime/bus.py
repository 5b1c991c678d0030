"""The event bus: committed domain events, each given a global, ordered id, handed to every
subscriber in order.

The bus keeps its events in a log (``realtime/log.py``): in memory for one process, a Redis
Stream shared by every process when ``KEFU_REDIS_URL`` is set (``make_bus``). Publishing
appends to the log; the log hands each event, once and in log order, to the subscribers of this
process — at once in the publishing thread in memory, from the stream's reader thread on Redis
(so an event published by another kefu process reaches this one's sockets too).

Publishing happens in whatever thread committed the transaction (a request's worker thread, the
intake writer, the sweep, the relay); a subscriber that works on an event loop hands the events
over to it (``loop.call_soon_threadsafe``). A subscriber that raises is logged and does not stop
the others, nor the commit that is already done.

Every event gets an id (``Stored.id``, ``"<ms>-<seq>"``, growing in log order) so that a client
that reconnects can say where it was: ``since(last_id)`` replays the gap, or answers ``RESYNC``
when the log no longer holds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from kefu.domain.events import Event
from kefu.realtime.log import (
    RESYNC,
    EventIds,
    EventLog,
    MemoryLog,
    RedisLog,
    Resync,
    Stored,
    event_id_key,
)
from kefu.settings import Settings

__all__ = [
    "RESYNC",
    "EventBus",
    "EventIds",
    "Resync",
    "Stored",
    "Subscriber",
    "event_id_key",
    "make_bus",
]

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[Stored]], None]


class EventBus:
    def __init__(self, log: EventLog | None = None) -> None:
        self.log: EventLog = log if log is not None else MemoryLog()
        self._subscribers: tuple[Subscriber, ...] = ()
        self._gap_handlers: tuple[Callable[[], None], ...] = ()
        self._lock = threading.Lock()
        self._reading = False

    def subscribe(
        self, subscriber: Subscriber, *, gap: Callable[[], None] | None = None
    ) -> Callable[[], None]:
        """Hand every published batch to ``subscriber``, and call ``gap`` when events may have
        been lost (Redis was away: the subscriber's clients must reload); returns the function
        that unsubscribes."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
            if gap is not None:
                self._gap_handlers = (*self._gap_handlers, gap)
            if not self._reading:  # Redis: no reader thread until someone listens
                self.log.start(self._deliver, self._gap)
                self._reading = True

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)
                self._gap_handlers = tuple(g for g in self._gap_handlers if g is not gap)

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        if events:
            self.log.append(events)

    def since(self, last_id: str) -> list[Stored] | Resync:
        """The events after ``last_id``, or ``RESYNC`` when the log no longer holds the gap."""
        return self.log.since(last_id)

    def head(self) -> str:
        """The newest event's id: where a client that saw everything so far resumes."""
        return self.log.head()

    def close(self) -> None:
        """Stop the log's reader (Redis; at the end of a server's life): a later ``subscribe``
        starts it again, after the last event it handed over."""
        with self._lock:
            self._reading = False
        self.log.close()

    def _deliver(self, stored: Sequence[Stored]) -> None:
        for subscriber in self._subscribers:  # a tuple: (un)subscribing meanwhile is safe
            try:
                subscriber(stored)
            except Exception:
                log.exception("event subscriber %r failed on %d events", subscriber, len(stored))

    def _gap(self) -> None:
        log.warning("realtime events may have been lost: every socket is told to reload")
        for handler in self._gap_handlers:
            try:
                handler()
            except Exception:
                log.exception("gap handler %r failed", handler)


def make_bus(settings: Settings) -> EventBus:
    """In memory for one process; a Redis Stream shared by every process when Redis is set."""
    if settings.redis_url:
        return EventBus(
            RedisLog(
                settings.redis_url, key=settings.event_stream, retention=settings.event_retention
            )
        )
    return EventBus(MemoryLog(settings.event_retention))
