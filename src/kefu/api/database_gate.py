"""Admission to the database, queued in order on the event loop.

Two gates, both awaited on the event loop so that waiting costs no thread:

- at most ``slots`` holders of a database connection at once, fewer than the pool has and
  fewer than there are worker threads (``admission_slots``). Fewer than the pool: a request
  never blocks on pool checkout while the requests holding the connections wait for the loop
  or a thread. Fewer than the threads: a sync handler needs a worker thread for its body and
  again for validating its response, and it commits only after that (api/deps.py). If more
  requests were admitted than there are threads, those blocked on a row lock (20 agents
  claiming one ticket) could hold every thread while the lock holder waits for one to
  finish — nothing would ever commit, and the whole process froze (#16). With at least one
  thread to spare, every admitted request that is not waiting on a lock can always run, so the
  lock holder finishes and commits, and the waiters follow. PostgreSQL's ``lock_timeout``
  (db/engine.py) bounds how long a waiter keeps its slot when the holder is slow for another
  reason (another process, a stuck client);
- on SQLite, one writer at a time. SQLite has a single writer; without this queue,
  concurrent writers poll SQLite's busy handler, whose growing sleeps (1, 2, 5 … 100 ms)
  make latency spiky and unfair.

``DatabaseGate`` admits whole requests. Paths that admit themselves (intake, whose
requests wait for the batching writer instead of holding a connection) pass through, and
the writer takes ``DatabaseAdmission.writer()`` for each batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Ungated paths must not need a worker thread (async handlers): they run beside the admitted.
UNGATED_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json", "/"})
THREADS_TO_SPARE = 1
ADMITTED = "database_admitted"  # request.state: the request already holds a slot


def admission_slots(*, pool_slots: int, worker_threads: int) -> int:
    """How many requests may use the database at once: what the pool holds, and fewer than the
    worker threads, keeping ``THREADS_TO_SPARE`` (at least one slot)."""
    return max(1, min(pool_slots, worker_threads - THREADS_TO_SPARE))


class DatabaseAdmission:
    def __init__(self, *, slots: int, serialize_writes: bool) -> None:
        self.slots = slots
        self.serialize_writes = serialize_writes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(slots)
        self._write_lock = asyncio.Lock()

    def _gates(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        """The semaphore and lock of the running loop: an app started again on another loop (a
        test client's second lifespan) gets fresh ones instead of ones bound to the old loop."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._slots, self._write_lock = (
                loop,
                asyncio.Semaphore(self.slots),
                asyncio.Lock(),
            )
        return self._slots, self._write_lock

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[None]:
        """Hold one connection slot."""
        slots, _ = self._gates()
        async with slots:
            yield

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[None]:
        """Hold one connection slot and, on SQLite, the right to write."""
        slots, write_lock = self._gates()
        async with slots:
            if self.serialize_writes:
                async with write_lock:
                    yield
            else:
                yield


class DatabaseGate:
    def __init__(
        self,
        app: Any,
        *,
        admission: DatabaseAdmission,
        self_admitted: frozenset[str] = frozenset(),
        self_admitted_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.admission = admission
        self.pass_through = UNGATED_PATHS | self_admitted
        self.prefixes = self_admitted_prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self.pass_through
            or (self.prefixes and path.startswith(self.prefixes))
        ):
            await self.app(scope, receive, send)
            return
        gate = (
            self.admission.reader() if scope["method"] in SAFE_METHODS else self.admission.writer()
        )
        async with gate:
            # Dependencies that need the database on their own (api/deps.py) must not queue for
            # a second slot while holding this one: under load that deadlocks.
            scope.setdefault("state", {})[ADMITTED] = True
            await self.app(scope, receive, send)
