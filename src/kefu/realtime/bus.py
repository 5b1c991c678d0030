"""The event bus: committed domain events, handed to every subscriber in order.

In memory for one process. Publishing happens in whatever thread committed the
transaction (a request's worker thread, the intake writer, the sweep); a subscriber that
works on an event loop hands the events over to it (``loop.call_soon_threadsafe``). A
subscriber that raises is logged and does not stop the others, nor the commit that is
already done. A backend that carries events between processes (Redis) comes with the
realtime work and keeps this interface.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from kefu.domain.events import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[Event]], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

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
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(events)
            except Exception:
                log.exception("event subscriber %r failed on %d events", subscriber, len(events))
