"""Fixtures of the outbox tests: a callback receiver, an integration posting to it, relays."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.channels.api_callback import ApiCallbackAdapter
from kefu.channels.base import Adapters
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import OutboxEntry
from kefu.domain.delivery import RetryPolicy
from kefu.realtime.bus import EventBus
from kefu.services.events.unit_of_work import BUS
from kefu.services.outbound.relay import Relay
from kefu.services.outbound.service import RelayService
from tests import factories
from tests.callback_receiver import CallbackReceiver

QUICK = RetryPolicy(
    first_delay=timedelta(milliseconds=10), max_delay=timedelta(milliseconds=50), max_attempts=5
)
IDLE = 600.0  # a relay's poll in these tests: anything sooner was a wake-up or a due retry


@pytest.fixture
def receiver(db) -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def shop(db, receiver):
    """An integration of the api channel (a JD shop) whose callback is ``receiver``."""
    made = factories.make_callback_integration(db, receiver.url, name="京东店铺")
    receiver.secret = factories.callback_secret(made)
    return made


@pytest.fixture
def make_relay(engine, quiet_relays) -> Iterator[Callable[..., Relay]]:
    made: list[tuple[Relay, ApiCallbackAdapter]] = []

    def make(*, bus: EventBus | None = None, policy: RetryPolicy = QUICK, **options) -> Relay:
        adapter = ApiCallbackAdapter(
            make_session_factory(engine), secret_key=factories.SECRET_KEY, timeout=5
        )
        adapters = Adapters()
        adapters.add(adapter)
        sessions = make_session_factory(writer_bind(engine), info={BUS: bus} if bus else None)
        relay = Relay(
            sessions, adapters, read_sessions=make_session_factory(engine), policy=policy, **options
        )
        made.append((relay, adapter))
        return relay

    yield make
    for relay, adapter in made:
        relay.close()
        adapter.close()


@pytest.fixture
def start() -> Iterator[Callable[..., RelayService]]:
    """``start(relay, **options)``: the relay's service running (stopped after the test)."""
    running: list[RelayService] = []

    def make(relay: Relay, **options) -> RelayService:
        service = RelayService(relay, poll=options.pop("poll", IDLE), **options)
        service.start()
        running.append(service)
        return service

    yield make
    for service in running:
        service.stop()


def row_of(db, message_id: int) -> OutboxEntry:
    """The outbox row of a message as the relays last committed it."""
    db.rollback()  # a fresh snapshot
    db.expire_all()  # (a rollback with no transaction open keeps the loaded rows as they were)
    return db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message_id))


@pytest.fixture(autouse=True)
def _quiet_server(quiet_relays) -> Iterator[None]:
    """The live server's relay is paused before any fixture writes (a relay writing meanwhile
    makes a test session's read-then-write fail at once on SQLite): the tests' relays alone send."""
    yield
