"""Running the SLA sweep: a loop for ``kefu worker`` and a task inside ``kefu serve``."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio.to_thread
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.services.sla import SweepReport, SweepSettings, sweep_until_done

log = logging.getLogger("kefu.sla")


def _logged(report: SweepReport) -> SweepReport:
    if report.warnings or report.breaches or report.failed:
        log.info(
            "sla sweep: %d tickets checked, %d warnings, %d breaches escalated, %d failed",
            report.checked,
            report.warnings,
            report.breaches,
            report.failed,
        )
    return report


def run(
    session_factory: Callable[[], Session],
    settings: SweepSettings,
    interval: float,
    stop: threading.Event,
    once: bool = False,
) -> SweepReport:
    """Sweep every ``interval`` seconds until ``stop`` is set (or once); errors are logged and retried."""
    total = SweepReport()
    while not stop.is_set():
        try:
            total.add(_logged(sweep_until_done(session_factory, utcnow, settings)))
        except Exception:  # a database restart, a lost connection: try again next round
            log.exception("sla sweep failed; retrying in %.1f s", interval)
            if once:
                raise
        if once:
            break
        stop.wait(interval)
    return total


async def serve_loop(
    session_factory: Callable[[], Session],
    settings: SweepSettings,
    interval: float,
    admit: Callable[[], AbstractAsyncContextManager[object]],
) -> None:
    """The sweep inside the server: each round in a worker thread, holding the write admission
    (SQLite's single writer) so it never races the intake writer for the lock."""
    while True:
        try:
            async with admit():
                await anyio.to_thread.run_sync(
                    lambda: _logged(sweep_until_done(session_factory, utcnow, settings))
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sla sweep failed; retrying in %.1f s", interval)
        await asyncio.sleep(interval)
