"""The fan-out of committed events to this process's staff sockets.

One bus subscription for every agent socket, however many are open: the bus hands a batch over
from whatever thread published it (or from the Redis reader), the hub moves it onto the event
loop, and one dispatcher takes everything that arrived since its last round. Per round it
looks up, in one query, where the tickets of those events stand now (``places_of``) — only when
some open socket is limited to its groups — encodes each event's frame once, decides once per
distinct viewer (user, role, groups) which events they may receive (``may_receive``, the REST
rules), and queues the frames on each socket. While a query runs, new events pile up and go in
the next round: the busier the stream, the larger the rounds, the fewer the queries.

``AccessChanged`` events are never sent; they make the sockets of that user check their
credentials again (closed if signed out, deactivated or revoked; the new groups from then on).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kefu.domain import events as ev
from kefu.domain.event_audience import (
    AGENT_EVENTS,
    TicketPlace,
    Viewer,
    may_receive,
    needs_ticket,
)
from kefu.realtime.bus import EventBus, Stored, event_id_key

log = logging.getLogger(__name__)

PlaceLookup = Callable[[Collection[int]], Awaitable[dict[int, TicketPlace]]]


@dataclass(frozen=True)
class Frame:
    """One event as sent: its id (and sortable key) and its JSON text."""

    id: str
    key: tuple[int, int]
    text: str


def event_frame(stored: Stored) -> Frame:
    text = json.dumps(
        {"type": "event", "id": stored.id, "event": stored.event.to_json()},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return Frame(stored.id, event_id_key(stored.id), text)


class Listener(Protocol):
    """An open staff socket as the hub sees it."""

    @property
    def viewer(self) -> Viewer: ...

    def push(self, frames: Sequence[Frame]) -> None:
        """Queue frames to send (never blocks; a socket that falls too far behind closes)."""

    def access_changed(self) -> None:
        """Check the credential again soon."""

    def resync(self) -> None:
        """Tell the client to reload from REST: events may have been lost."""


class AgentHub:
    def __init__(self, bus: EventBus, places: PlaceLookup) -> None:
        self._bus = bus
        self._places = places
        self._listeners: set[Listener] = set()
        self._arrived: deque[Stored] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, listener: Listener) -> None:
        """Start sending ``listener`` what it may see (call on the event loop)."""
        self._ensure_running()
        self._listeners.add(listener)

    def detach(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        """Agent sockets attached in this process (the /metrics open sockets)."""
        return len(self._listeners)

    async def frames_for(self, viewer: Viewer, stored: Sequence[Stored]) -> list[Frame]:
        """The frames of ``stored`` that ``viewer`` may receive (a replay)."""
        relevant = [s for s in stored if s.event.name in AGENT_EVENTS]
        places = await self._lookup(relevant, [viewer])
        return [
            event_frame(s)
            for s in relevant
            if may_receive(viewer, s.event, places.get(s.event.ticket_id or 0))
        ]

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    # --- from the bus -------------------------------------------------------------------

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._task is not None and not self._task.done():
            return
        self._loop, self._wake = loop, asyncio.Event()
        self._task = loop.create_task(self._dispatch_forever(), name="kefu-agent-hub")
        if self._unsubscribe is None:
            self._unsubscribe = self._bus.subscribe(self._published, gap=self._gap)

    def _published(self, stored: Sequence[Stored]) -> None:
        """Any thread: hand the batch to the loop (dropped when no socket is open)."""
        loop = self._loop
        if loop is None or not self._listeners or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._arrive, stored)
        except RuntimeError:  # the loop closed meanwhile: nobody left to tell
            pass

    def _gap(self) -> None:
        """Any thread: every socket of this process is told to resync (on the loop)."""
        loop = self._loop
        if loop is None or not self._listeners or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._tell_resync)
        except RuntimeError:
            pass

    def _tell_resync(self) -> None:
        for listener in list(self._listeners):
            listener.resync()

    def _arrive(self, stored: Sequence[Stored]) -> None:
        self._arrived.extend(stored)
        if self._wake is not None:
            self._wake.set()

    async def _dispatch_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch = list(self._arrived)
            self._arrived.clear()
            try:
                await self.dispatch(batch)
            except Exception:  # a database blip loses this round, not the hub
                log.exception("dispatching %d events to staff sockets failed", len(batch))

    async def dispatch(self, batch: Sequence[Stored]) -> None:
        listeners = list(self._listeners)
        if not listeners:
            return
        for user_id in {s.event.user_id for s in batch if isinstance(s.event, ev.AccessChanged)}:
            for listener in listeners:
                if listener.viewer.user_id == user_id:
                    listener.access_changed()
        relevant = [s for s in batch if s.event.name in AGENT_EVENTS]
        if not relevant:
            return
        by_viewer: dict[Viewer, list[Listener]] = {}
        for listener in listeners:
            by_viewer.setdefault(listener.viewer, []).append(listener)
        places = await self._lookup(relevant, by_viewer)
        rows = [(s, places.get(s.event.ticket_id or 0)) for s in relevant]
        frames: dict[str, Frame] = {}  # each event encoded once, for however many receive it
        for viewer, group in by_viewer.items():
            chosen = [
                frames.get(s.id) or frames.setdefault(s.id, event_frame(s))
                for s, place in rows
                if may_receive(viewer, s.event, place)
            ]
            if chosen:
                for listener in group:
                    listener.push(chosen)

    async def _lookup(
        self, stored: Iterable[Stored], viewers: Iterable[Viewer]
    ) -> dict[int, TicketPlace]:
        if all(v.sees_all_tickets for v in viewers):
            return {}  # supervisors and admins see every ticket: nothing to look up
        ids = {s.event.ticket_id for s in stored if needs_ticket(s.event)}
        return await self._places({i for i in ids if i is not None}) if ids else {}
