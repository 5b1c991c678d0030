"""The event bus: committed domain events, each given a global, ordered id, handed to every
subscriber in order.

In memory for one process. Publishing happens in whatever thread committed the
transaction (a request's worker thread, the intake writer, the sweep, the relay); a subscriber
that works on an event loop hands the events over to it (``loop.call_soon_threadsafe``). A
subscriber that raises is logged and does not stop the others, nor the commit that is
already done.

Every published event gets an id (``Stored.id``, Redis Stream style ``"<ms>-<seq>"``, growing
in publish order) so that a client that reconnects can say where it was; keeping them long
enough to replay and carrying them between processes (Redis) is ``realtime/`` work that keeps
this interface.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kefu.domain.events import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """A published event with its place in the one global order."""

    id: str  # "<milliseconds>-<sequence>", compared with ``event_id_key``
    event: Event


Subscriber = Callable[[Sequence[Stored]], None]


def event_id_key(event_id: str) -> tuple[int, int]:
    """``"1733500000000-3"`` as a sortable pair; a ValueError for anything else."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class EventIds:
    """Ids in publish order: the current millisecond and a sequence within it, never going back
    (a clock that steps back keeps the last millisecond)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last = (0, -1)

    def next(self) -> str:
        ms = int(self._clock() * 1000)
        last_ms, last_seq = self._last
        self._last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._ids = EventIds()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Hand every published batch to ``subscriber``; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with self._lock:  # ids and hand-over in one order for every subscriber
            stored = tuple(Stored(self._ids.next(), event) for event in events)
            subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(stored)
                except Exception:
                    log.exception(
                        "event subscriber %r failed on %d events", subscriber, len(stored)
                    )
