"""/healthz: is this process alive, and can it reach its database? /readyz: should a load
balancer send it traffic — the database answers, its schema is at the newest migration, and
Redis (when configured) answers.

It must answer quickly whatever the rest of the process is doing, so it never waits for a
request worker thread nor for database admission (api/database_gate.py): the probe runs on
its own single thread, and the answer waits for it at most ``PROBE_TIMEOUT_SECONDS``. A probe
stuck on an unreachable server keeps that one thread busy; the next health checks then time
out waiting for it and answer "down" at once, and nothing else queues behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from kefu import __version__
from kefu.errors import DATABASE_RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 0.5
# /readyz asks more (the schema's revision, Redis, whose connect timeout is 1 s): a little longer.
READY_TIMEOUT_SECONDS = 1.5

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

    async def readiness(self, redis: Any) -> dict[str, str]:
        """Each dependency "ok" or what is wrong with it; Redis "not configured" without one."""
        found = {
            "database": await self._ask(self._database_and_schema, "database"),
            "redis": "not configured",
        }
        if redis is not None:
            found["redis"] = await self._ask(lambda: _ping(redis), "redis")
        return found

    async def _ask(self, check: Callable[[], str], what: str) -> str:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._thread, check), READY_TIMEOUT_SECONDS
            )
        except TimeoutError:
            log.warning("readiness: %s gave no answer in %.1f s", what, READY_TIMEOUT_SECONDS)
            return "no answer"
        except Exception as e:
            log.warning("readiness: %s failed: %s", what, e)
            return "down"

    def _database_and_schema(self) -> str:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        expected = set(migration_heads())
        if current != expected:
            at = ", ".join(sorted(current)) or "none"
            return f"schema at migration {at}, expected {', '.join(sorted(expected))}"
        return "ok"

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


_heads: tuple[str, ...] = ()


def migration_heads() -> tuple[str, ...]:
    """The newest revisions of the migrations shipped with this code (read once)."""
    global _heads
    if not _heads:
        from alembic.script import ScriptDirectory

        from kefu.db.migrate import alembic_config

        _heads = tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    return _heads


def _ping(redis: Any) -> str:
    redis.ping()
    return "ok"


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


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """200 when every dependency is "ok"; 503 naming what is not, with Retry-After."""
    probe: DatabaseProbe = request.app.state.database_probe
    checks = await probe.readiness(request.app.state.redis)
    ready = all(value in ("ok", "not configured") for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "version": __version__, **checks}
    if ready:
        return JSONResponse(body)
    return JSONResponse(
        body, status_code=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    )
