"""Admission to the database, queued in order on the event loop.

Two gates, both awaited on the event loop so that waiting costs no thread:

- at most ``slots`` requests hold a database connection at once (no more than the pool
  has), so a request never blocks on pool checkout while the requests that hold the
  connections wait for the loop or a worker thread to finish;
- on SQLite, one write request at a time. SQLite has a single writer; without this queue,
  concurrent writers poll SQLite's busy handler, whose growing sleeps (1, 2, 5 … 100 ms)
  make latency spiky and unfair.
"""

from __future__ import annotations

import asyncio
from typing import Any

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNGATED_PATHS = frozenset({"/healthz", "/docs", "/openapi.json", "/"})


class DatabaseGate:
    def __init__(self, app: Any, *, slots: int, serialise_writes: bool) -> None:
        self.app = app
        self.slots = slots
        self.serialise_writes = serialise_writes
        self._slots: asyncio.Semaphore | None = None
        self._write_lock: asyncio.Lock | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in UNGATED_PATHS:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.slots)
            self._write_lock = asyncio.Lock()
        async with self._slots:
            if self.serialise_writes and scope["method"] not in SAFE_METHODS:
                assert self._write_lock is not None
                async with self._write_lock:
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)
