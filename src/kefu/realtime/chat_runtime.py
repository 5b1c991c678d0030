"""What the visitor endpoints of one process share: the channel cache, the limits, the socket
hub, and their way to the database.

Visitor endpoints (api/chat_public.py, realtime/visitor_socket.py) admit themselves to the
database (api/database_gate.py): a WebSocket holds no slot while it sits idle, and a message
waits for intake's batching writer instead of holding a connection. Each database step runs in
a worker thread holding a slot (``read``: a reader's; ``write``: a writer's, SQLite's single
writer included), in one transaction committed at its end.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from kefu.api.database_gate import DatabaseAdmission
from kefu.db.base import utcnow
from kefu.realtime.bus import EventBus
from kefu.realtime.visitor_hub import VisitorHub
from kefu.services.infra.intake_writer import IntakeWriter
from kefu.services.webchat import availability, channels, offers, receipts
from kefu.services.webchat.channels import ChannelCache, ChannelInfo
from kefu.services.webchat.limits import VisitorLimits
from kefu.settings import Settings

T = TypeVar("T")
AVAILABILITY_SECONDS = 1.0
RECEIPT_DELAY_SECONDS = 0.05  # acks wait this long for company before they are recorded
RECEIPTS_PER_TRANSACTION = 500

log = logging.getLogger(__name__)


@dataclass
class WebchatRuntime:
    settings: Settings
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    admission: DatabaseAdmission
    intake: IntakeWriter
    bus: EventBus
    limits: VisitorLimits
    channels: ChannelCache
    hub: VisitorHub
    _queues: dict[int, tuple[float, asyncio.Future[availability.ChannelQueue]]] = field(
        default_factory=dict
    )
    _acks: list[receipts.Ack] = field(default_factory=list)
    _recording: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        read_sessions: sessionmaker[Session],
        write_sessions: sessionmaker[Session],
        admission: DatabaseAdmission,
        intake: IntakeWriter,
        bus: EventBus,
        redis: Any = None,
    ) -> WebchatRuntime:
        queues: dict[int, tuple[float, asyncio.Future[availability.ChannelQueue]]] = {}
        return cls(
            settings, read_sessions, write_sessions, admission, intake, bus,
            VisitorLimits(settings, redis=redis), ChannelCache(),
            VisitorHub(bus, on_presence=queues.clear), queues,
        )  # fmt: skip

    @property
    def rules(self) -> offers.OfferRules:
        return offers.rules_of(self.settings)

    @property
    def secret_key(self) -> str:
        return self.settings.secret_key

    async def read(self, work: Callable[[Session], T]) -> T:
        async with self.admission.reader():
            return await anyio.to_thread.run_sync(_run, self.read_sessions, work)

    async def write(self, work: Callable[[Session], T]) -> T:
        async with self.admission.writer():
            return await anyio.to_thread.run_sync(_run, self.write_sessions, work)

    def acknowledge(self, ack: receipts.Ack) -> None:
        """Record a visitor's ack soon, with every other ack of the process that came meanwhile:
        one transaction for many, where each would otherwise take a write turn of its own."""
        self._acks.append(ack)
        if self._recording is None or self._recording.done():
            self._recording = asyncio.get_running_loop().create_task(self._record_acks())

    async def _record_acks(self) -> None:
        await asyncio.sleep(RECEIPT_DELAY_SECONDS)
        while self._acks:
            batch = self._acks[:RECEIPTS_PER_TRANSACTION]
            del self._acks[:RECEIPTS_PER_TRANSACTION]
            try:
                await self.write(functools.partial(receipts.acknowledge_many, acks=batch))
            except Exception:  # a receipt is a courtesy: logged, and the socket goes on
                log.exception("recording %d web chat receipts failed", len(batch))

    async def channel_queue(self, channel: ChannelInfo) -> availability.ChannelQueue:
        """Who answers on the channel and which chats wait, looked up once per
        ``AVAILABILITY_SECONDS`` however many widgets ask: an agent's status change makes every
        open widget of the process ask at once (the hub forgets the last answer first), and
        every waiting widget asks for its place in the queue every few seconds."""
        now = time.monotonic()
        cached = self._queues.get(channel.id)
        if cached is not None and cached[0] > now:
            return await asyncio.shield(cached[1])
        rules = self.rules

        async def look_up() -> availability.ChannelQueue:
            return await self.read(
                lambda session: availability.channel_queue(session, channel, utcnow(), rules)
            )

        task = asyncio.ensure_future(look_up())
        self._queues[channel.id] = (now + AVAILABILITY_SECONDS, task)
        try:
            return await asyncio.shield(task)
        except Exception:
            self._queues.pop(channel.id, None)
            raise

    async def channel(self, key: str) -> ChannelInfo | None:
        """The enabled channel with this key, or None."""
        if not key or len(key) > 40:
            return None
        found, channel = self.channels.get(key)
        if found:
            return channel
        loaded = await self.read(lambda session: channels.channel_by_key(session, key))
        return self.channels.put(key, loaded)


def _run(factory: Callable[[], Session], work: Callable[[Session], T]) -> T:
    with factory() as session:
        result = work(session)
        session.commit()
        return result
