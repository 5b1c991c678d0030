"""/healthz: is this process alive, and can it reach its database?

It must answer quickly whatever the rest of the process is doing, so it never waits for a
request worker thread nor for database admission (api/database_gate.py): the probe runs on
its own single thread, and the answer waits for it at most ``PROBE_TIMEOUT_SECONDS``. A probe
stuck on an unreachable server keeps that one thread busy; the next health checks then time
out waiting for it and answer "down" at once, and nothing else queues behind it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from kefu import __version__
from kefu.errors import DATABASE_RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 0.5

router = APIRouter()


class DatabaseProbe:
    """``SELECT 1`` through the engine's pool, on a thread of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-health")

    async def database_up(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(self._thread, self._select_one), PROBE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            log.warning("database health probe got no answer in %.1f s", PROBE_TIMEOUT_SECONDS)
            return False
        except Exception as e:  # any failure to reach or use the database is "down"
            log.warning("database health probe failed: %s", e)
            return False
        return True

    def _select_one(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """200 ``{"status": "ok", "database": "ok"}``; 503 ``degraded`` / ``down`` with Retry-After."""
    probe: DatabaseProbe = request.app.state.database_probe
    if await probe.database_up():
        return JSONResponse({"status": "ok", "version": __version__, "database": "ok"})
    return JSONResponse(
        {"status": "degraded", "version": __version__, "database": "down"},
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )
