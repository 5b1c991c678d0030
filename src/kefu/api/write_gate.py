"""One write request at a time on SQLite, queued in order on the event loop.

SQLite has a single writer. Without a queue, concurrent writers poll SQLite's busy handler,
whose growing sleeps (1, 2, 5 … 100 ms) make latency spiky and unfair. Waiting here costs no
thread: a lock taken inside the thread pool would deadlock once every pool thread waits for
it while the request holding it needs a thread to commit.
"""

from __future__ import annotations

import asyncio
from typing import Any

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SQLiteWriteGate:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock: asyncio.Lock | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self.app(scope, receive, send)
