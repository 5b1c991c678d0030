"""A process's relay, in a thread of its own: started by ``kefu serve`` (app.py's lifespan) and by
``kefu worker``.

It sleeps until a wake-up (services/outbound/wake.py: a commit of this process, a PostgreSQL
notification, a Redis message), the next retry or lease end it knows of, or at most
``poll`` seconds; then it delivers until nothing is due. A thread and not a task on the
server's event loop: waiting costs no worker thread of the request pool, and a slow receiver
never holds up the loop.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from kefu.channels.base import Adapters
from kefu.domain.delivery import RetryPolicy
from kefu.services.outbound import wake
from kefu.services.outbound.relay import Relay, RelayReport, relay_name
from kefu.settings import Settings

log = logging.getLogger(__name__)

FAILED_ROUND_WAIT = 1.0  # the database is down, say: try again soon, not in a tight loop
MIN_WAIT = 0.01


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        first_delay=timedelta(seconds=settings.outbox_retry_first_seconds),
        max_delay=timedelta(seconds=settings.outbox_retry_max_seconds),
        max_attempts=settings.outbox_max_attempts,
    )


def relay_for(
    sessions: Callable[[], Session],
    adapters: Adapters,
    settings: Settings,
    *,
    read_sessions: Callable[[], Session] | None = None,
    role: str = "relay",
) -> Relay:
    """A relay as the settings say (retries, lease, the longest a send may take)."""
    return Relay(
        sessions,
        adapters,
        read_sessions=read_sessions,
        name=relay_name(role),
        policy=retry_policy(settings),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        send_timeout=timedelta(seconds=settings.callback_timeout_seconds),
    )


_RUNNING: weakref.WeakSet[RelayService] = weakref.WeakSet()


class RelayService:
    """Runs ``relay`` in a thread until stopped; restartable (a test starts and stops it)."""

    def __init__(
        self,
        relay: Relay,
        *,
        poll: float = 5.0,
        postgres_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.relay = relay
        self.poll = poll
        self.postgres_url = postgres_url  # LISTEN for other processes' wake-ups
        self.redis_url = redis_url
        self._bell = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.totals = RelayReport()  # what it did since it was made (for the log and tests)

    @classmethod
    def from_settings(
        cls,
        sessions: Callable[[], Session],
        adapters: Adapters,
        settings: Settings,
        *,
        read_sessions: Callable[[], Session] | None = None,
    ) -> RelayService:
        url = settings.resolved_database_url
        return cls(
            relay_for(sessions, adapters, settings, read_sessions=read_sessions),
            poll=settings.outbox_poll_seconds,
            postgres_url=url if url.startswith("postgresql") else None,
            redis_url=settings.redis_url,
        )

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @classmethod
    def running_here(cls) -> list[RelayService]:
        """The relay services running in this process (a test pauses them all)."""
        return [service for service in list(_RUNNING) if service.running]

    def start(self) -> None:
        if self.running:
            return
        self._stop = threading.Event()
        self._bell.set()  # look for due rows at once
        wake.LOCAL.add(self._bell)
        targets: list[tuple[str, Callable[[], None]]] = [("kefu-relay", self._loop)]
        if self.postgres_url:
            url = self.postgres_url
            targets.append(
                ("kefu-relay-listen", lambda: wake.listen_postgres(url, self._bell.set, self._stop))
            )
        if self.redis_url:
            redis_url = self.redis_url
            targets.append(
                (
                    "kefu-relay-redis",
                    lambda: wake.listen_redis(redis_url, self._bell.set, self._stop),
                )
            )
        self._threads = [threading.Thread(target=t, name=n, daemon=True) for n, t in targets]
        for thread in self._threads:
            thread.start()
        _RUNNING.add(self)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the round under way (a send in flight finishes or times out)."""
        self._stop.set()
        self._bell.set()
        wake.LOCAL.discard(self._bell)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        _RUNNING.discard(self)
        self.relay.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._bell.clear()  # a wake-up during the round below makes another round
            try:
                self.totals.add(self.relay.run_until_idle())
                # Rung meanwhile: round again at once, no need to ask when the next row is due.
                wait = 0.0 if self._bell.is_set() else self.relay.seconds_until_due(self.poll)
            except Exception:
                log.exception(
                    "outbox relay round failed; trying again in %.1f s", FAILED_ROUND_WAIT
                )
                wait = FAILED_ROUND_WAIT
            self._bell.wait(max(MIN_WAIT, wait))
