"""What the visitor endpoints of one process share: the channel cache, the limits, the socket
hub, and their way to the database.

Visitor endpoints (api/chat_public.py, realtime/visitor_socket.py) admit themselves to the
database (api/database_gate.py): a WebSocket holds no slot while it sits idle, and a message
waits for intake's batching writer instead of holding a connection. Each database step runs in
a worker thread holding a slot (``read``: a reader's; ``write``: a writer's, SQLite's single
writer included), in one transaction committed at its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from kefu.api.database_gate import DatabaseAdmission
from kefu.realtime.bus import EventBus
from kefu.realtime.visitor_hub import VisitorHub
from kefu.services.infra.intake_writer import IntakeWriter
from kefu.services.webchat import channels, offers
from kefu.services.webchat.channels import ChannelCache, ChannelInfo
from kefu.services.webchat.limits import VisitorLimits
from kefu.settings import Settings

T = TypeVar("T")


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
        return cls(
            settings, read_sessions, write_sessions, admission, intake, bus,
            VisitorLimits(settings, redis=redis), ChannelCache(), VisitorHub(bus),
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
