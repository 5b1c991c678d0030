"""One bus subscription for every visitor socket of the process: each committed event goes to
the sockets of the visitor it concerns, and to no one else.

Events carry ids, not rows. The hub knows, for each visitor with a socket open, their customer
and their web chat tickets, so it finds an event's visitor without a query: by the customer
(``VisitorMessage``) or by the ticket (``MessageAdded``, ``TicketAssigned``, ``Typing``,
``TicketChanged``); a ``TicketOpened`` on the web chat of a visitor it follows adds the ticket.
``PresenceChanged`` goes to every socket (the widgets say whether anyone answers), after
``on_presence`` is called (the runtime forgets what it knew of who answers). Nothing else
reaches a visitor: internal notes, other customers' tickets and every other event kind stay out
by construction.

The bus calls ``_on_published`` in whatever thread committed; the events are handed to each
socket's event loop (``Listener.deliver`` via ``call_soon_threadsafe``), in publish order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from kefu.domain import events as ev
from kefu.domain.tickets import Channel, Direction
from kefu.realtime.bus import EventBus, Stored

log = logging.getLogger(__name__)

BY_TICKET = (ev.MessageAdded, ev.TicketAssigned, ev.Typing, ev.TicketChanged)


class Listener(Protocol):
    loop: asyncio.AbstractEventLoop

    def deliver(self, events: list[Stored]) -> None: ...

    def resync(self) -> None:
        """Events may have been lost: the widget reconnects and catches up from its last seq."""


def concerns_visitor(event: ev.Event) -> bool:
    """Whether a visitor may hear of this kind of event at all (before asking whose it is)."""
    match event:
        case ev.MessageAdded(direction=direction):
            return direction == Direction.INBOUND.value  # replies come as VisitorMessage
        case ev.Typing(who=who):
            return who == "agent"
        case ev.TicketAssigned(assignee_id=assignee_id):
            return assignee_id is not None
        case ev.TicketChanged() | ev.VisitorMessage() | ev.PresenceChanged():
            return True
    return False


class VisitorHub:
    def __init__(self, bus: EventBus, on_presence: Callable[[], None] | None = None) -> None:
        self._bus = bus
        self._on_presence = on_presence
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._listeners: set[Listener] = set()
        self._by_customer: dict[int, set[Listener]] = {}
        self._ticket_customer: dict[int, int] = {}
        self._customer_tickets: dict[int, set[int]] = {}

    def attach(self, listener: Listener) -> None:
        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = self._bus.subscribe(self._on_published, gap=self._on_gap)
            self._listeners.add(listener)

    def follow(self, listener: Listener, customer_id: int, ticket_ids: Iterable[int] = ()) -> None:
        """Hand ``listener`` the events of this customer and of these web chat tickets of theirs."""
        with self._lock:
            if listener not in self._listeners:
                return
            self._by_customer.setdefault(customer_id, set()).add(listener)
            for ticket_id in ticket_ids:
                self._add_ticket(ticket_id, customer_id)

    def detach(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)
            for customer_id in [c for c, ls in self._by_customer.items() if listener in ls]:
                listeners = self._by_customer[customer_id]
                listeners.discard(listener)
                if not listeners:
                    del self._by_customer[customer_id]
                    for ticket_id in self._customer_tickets.pop(customer_id, ()):
                        self._ticket_customer.pop(ticket_id, None)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def _add_ticket(self, ticket_id: int, customer_id: int) -> None:
        self._ticket_customer[ticket_id] = customer_id
        self._customer_tickets.setdefault(customer_id, set()).add(ticket_id)

    def _on_published(self, batch: Sequence[Stored]) -> None:
        if self._on_presence is not None and any(
            isinstance(s.event, ev.PresenceChanged) for s in batch
        ):
            self._on_presence()  # before any socket hears of it
        out: dict[Listener, list[Stored]] = {}
        with self._lock:
            if not self._listeners:
                return
            for stored in batch:
                for listener in self._targets(stored.event):
                    out.setdefault(listener, []).append(stored)
        for listener, events in out.items():
            try:
                listener.loop.call_soon_threadsafe(listener.deliver, events)
            except RuntimeError:  # its loop is closed: the socket is gone
                self.detach(listener)

    def _on_gap(self) -> None:
        with self._lock:
            listeners = tuple(self._listeners)
        for listener in listeners:
            try:
                listener.loop.call_soon_threadsafe(listener.resync)
            except RuntimeError:
                self.detach(listener)

    def _targets(self, event: ev.Event) -> Iterable[Listener]:
        """Who hears of ``event`` (the caller holds the lock)."""
        if isinstance(event, ev.TicketOpened):
            if event.channel == Channel.WEBCHAT.value and event.customer_id in self._by_customer:
                assert event.ticket_id is not None
                self._add_ticket(event.ticket_id, event.customer_id)
            return ()
        if not concerns_visitor(event):
            return ()
        if isinstance(event, ev.PresenceChanged):
            return tuple(self._listeners)
        if isinstance(event, ev.VisitorMessage):
            customer_id: int | None = event.customer_id
        else:
            customer_id = self._ticket_customer.get(event.ticket_id or 0)
        return tuple(self._by_customer.get(customer_id, ())) if customer_id is not None else ()
