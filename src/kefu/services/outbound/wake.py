"""Waking the relays right after the commit that queued a row, so a reply leaves in milliseconds.

Three ways, each covering what the others cannot:

- in this process: every relay of the process waits on a ``threading.Event`` of its own,
  registered with ``LOCAL``; a commit that queued rings them all (the common case, and
  the only one with SQLite);
- across processes on PostgreSQL: the transaction that queues also says ``NOTIFY kefu_outbox``,
  which PostgreSQL delivers only when it commits (never for a rollback); each relay process
  keeps one connection that ``LISTEN``s (``listen_postgres``);
- across processes through Redis, when ``KEFU_REDIS_URL`` is set: the commit publishes on a
  pub/sub channel every relay process subscribes to (``listen_redis``). Pub/sub stores
  nothing: a relay that was not listening misses the call, so it looks for due rows whenever
  it (re)connects, and the sweep (jobs/registry.py "outbox") catches anything else.

A wake-up that finds nothing to do costs one query; a missed one costs at most a relay's idle
poll (``KEFU_OUTBOX_POLL_SECONDS``). Being woken is never a promise that work is there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction

from kefu.services.infra.ratelimit import connect_redis

log = logging.getLogger(__name__)

PG_CHANNEL = "kefu_outbox"
REDIS_CHANNEL = "kefu:outbox"
DOORBELL = "kefu.outbox_doorbell"  # session.info: the Doorbell a commit rings (else local only)
_PENDING = "kefu.outbox_wake"
RECONNECT_SECONDS = 1.0
LISTEN_TIMEOUT_SECONDS = 0.5  # how soon a listener notices it should stop
REDIS_RETRY_SECONDS = 5.0


class LocalBells:
    """The relays of this process: each one's event, set when a commit queued something."""

    def __init__(self) -> None:
        self._events: set[threading.Event] = set()
        self._lock = threading.Lock()

    def add(self, bell: threading.Event) -> None:
        with self._lock:
            self._events.add(bell)

    def discard(self, bell: threading.Event) -> None:
        with self._lock:
            self._events.discard(bell)

    def ring(self) -> None:
        with self._lock:
            bells = list(self._events)
        for bell in bells:
            bell.set()


LOCAL = LocalBells()


class Doorbell:
    """What a commit that queued rings: the local relays, and Redis when configured.

    It rings in the thread that committed (a request's): while Redis is down it is left out for
    ``REDIS_RETRY_SECONDS`` instead of costing every reply a connection timeout."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._redis: Any = connect_redis(redis_url)
        self._redis_down_until = 0.0

    def ring(self) -> None:
        LOCAL.ring()
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return
        try:
            self._redis.publish(REDIS_CHANNEL, b"1")
        except Exception:  # the sweep and the relays' polls still deliver
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("could not publish the outbox wake-up on Redis", exc_info=True)


LOCAL_ONLY = Doorbell()


def queued(session: Session) -> None:
    """Call in the transaction that queued (or re-queued) a row: its commit wakes the relays."""
    session.info[_PENDING] = True
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to the listeners at commit, and only if the transaction commits.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": PG_CHANNEL})


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.info.pop(_PENDING, False):
        doorbell: Doorbell = session.info.get(DOORBELL) or LOCAL_ONLY
        doorbell.ring()


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)


orm_event.listen(Session, "after_commit", _after_commit)
orm_event.listen(Session, "after_soft_rollback", _after_rollback)


# --- listening across processes -------------------------------------------------------------


def listen_postgres(database_url: str, wake: Callable[[], None], stop: threading.Event) -> None:
    """Until ``stop``: LISTEN on PostgreSQL and call ``wake`` for every notification; after
    each (re)connection too, for what was queued while nobody listened."""
    import psycopg

    conninfo = make_url(database_url).set(drivername="postgresql")
    dsn = conninfo.render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"LISTEN {PG_CHANNEL}")
                wake()
                while not stop.is_set():
                    for _ in conn.notifies(timeout=LISTEN_TIMEOUT_SECONDS):
                        wake()
        except Exception:
            if stop.is_set():
                return
            log.warning("outbox LISTEN connection lost; reconnecting", exc_info=True)
            stop.wait(RECONNECT_SECONDS)


def listen_redis(redis_url: str, wake: Callable[[], None], stop: threading.Event) -> None:
    """Until ``stop``: subscribe to the outbox channel on Redis and call ``wake`` for every
    message; after each (re)subscription too."""
    while not stop.is_set():
        client = connect_redis(redis_url)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(REDIS_CHANNEL)
            wake()
            while not stop.is_set():
                if pubsub.get_message(timeout=LISTEN_TIMEOUT_SECONDS) is not None:
                    wake()
            pubsub.close()
        except Exception:
            if stop.is_set():
                return
            log.warning("outbox Redis subscription lost; resubscribing", exc_info=True)
            stop.wait(RECONNECT_SECONDS)
        finally:
            client.close()
