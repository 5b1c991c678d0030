"""Running the periodic jobs: a loop for ``kefu worker`` and a task inside ``kefu serve``.

Two jobs for now, each round one after the other: the SLA sweep, and the retry of messages
whose analysis failed (``retry``, services/analysis_retry.py). A failure of one is logged and
does not keep the other from running.
"""

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
    retry: Callable[[], object] | None = None,
) -> SweepReport:
    """Sweep (and retry failed analyses) every ``interval`` seconds until ``stop`` is set (or
    once); errors are logged and retried."""
    total = SweepReport()
    while not stop.is_set():
        try:
            total.add(_logged(sweep_until_done(session_factory, utcnow, settings)))
        except Exception:  # a database restart, a lost connection: try again next round
            log.exception("sla sweep failed; retrying in %.1f s", interval)
            if once:
                raise
        if retry is not None:
            try:
                retry()
            except Exception:
                log.exception("analysis retry failed; retrying in %.1f s", interval)
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
    retry: Callable[[], object] | None = None,
) -> None:
    """The jobs inside the server: each round in a worker thread, holding the write admission
    (SQLite's single writer) so it never races the intake writer for the lock."""
    jobs: list[tuple[str, Callable[[], object]]] = [
        ("sla sweep", lambda: _logged(sweep_until_done(session_factory, utcnow, settings)))
    ]
    if retry is not None:
        jobs.append(("analysis retry", retry))
    while True:
        for name, job in jobs:
            try:
                async with admit():
                    await anyio.to_thread.run_sync(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying in %.1f s", name, interval)
        await asyncio.sleep(interval)
