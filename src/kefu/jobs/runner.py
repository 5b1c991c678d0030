"""Running the periodic jobs: a loop for ``kefu worker`` and a task inside ``kefu serve``.

Each job runs when its interval has passed since its last round started; a job that fails is
logged and tried again at its next round, and never stops the others. Each successful round is
recorded in ``job_runs`` (services/infra/job_runs.py): the metrics show how long ago each job
last succeeded, and the "job_watch" job tells the admins when one stalls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

import anyio.to_thread

from kefu.jobs.registry import Counts, Job, JobContext

log = logging.getLogger("kefu.jobs")

# A job's success is written at most this often per runner: the jobs on the SLA interval would
# otherwise write about five rows a second per worker. A stall is judged in minutes.
RECORD_EVERY_SECONDS = 10.0
_recorded: dict[tuple[int, str], float] = {}  # (the runner's context, job) -> monotonic time


def run_round(job: Job, context: JobContext) -> Counts:
    """One round of one job; what it did goes to the log when it did something."""
    counts = job.run(context)
    if any(value for key, value in counts.items() if key != "checked"):
        log.info("%s: %s", job.name, ", ".join(f"{k} {v}" for k, v in counts.items()))
    record_success(job, context)
    return counts


def record_success(job: Job, context: JobContext) -> None:
    """The round's success in ``job_runs``; failing to write it is logged, and the round still
    counts as done (the next round records again)."""
    from kefu.services.infra import job_runs

    key, now = (id(context), job.name), time.monotonic()
    if now - _recorded.get(key, -RECORD_EVERY_SECONDS) < RECORD_EVERY_SECONDS:
        return
    try:
        with context.sessions() as session:
            job_runs.record_success(session, job.name, context.now())
            session.commit()
    except Exception:
        log.warning("could not record the round of job %s", job.name, exc_info=True)
        return
    _recorded[key] = now


class Schedule:
    """When each job is due next (monotonic seconds)."""

    def __init__(self, jobs: Sequence[Job], clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs, self.clock = list(jobs), clock
        self.next_at = {job.name: 0.0 for job in self.jobs}

    def due(self) -> list[Job]:
        now = self.clock()
        return [job for job in self.jobs if self.next_at[job.name] <= now]

    def started(self, job: Job) -> None:
        self.next_at[job.name] = self.clock() + job.every

    def wait(self) -> float:
        """Seconds until the next job is due."""
        return max(0.0, min(self.next_at.values(), default=1.0) - self.clock())


def run_worker(
    jobs: Sequence[Job], context: JobContext, stop: threading.Event, *, once: bool = False
) -> dict[str, Counts]:
    """Run the jobs until ``stop`` is set; ``once``: one round of each, errors raised."""
    last: dict[str, Counts] = {}
    schedule = Schedule(jobs)
    while not stop.is_set():
        for job in schedule.due():
            schedule.started(job)
            try:
                last[job.name] = run_round(job, context)
            except Exception:  # a database restart, a lost connection: the next round tries again
                log.exception("job %s failed; trying again in %.1f s", job.name, job.every)
                if once:
                    raise
        if once:
            break
        stop.wait(schedule.wait())
    return last


async def serve_loop(
    jobs: Sequence[Job],
    context: JobContext,
    admit: Callable[[], AbstractAsyncContextManager[object]],
) -> None:
    """The jobs inside the server: each round in a worker thread, holding the write admission
    (SQLite's single writer) so that it never races the intake writer for the lock."""
    schedule = Schedule(jobs)
    while True:
        for job in schedule.due():
            schedule.started(job)
            try:
                async with admit():
                    await anyio.to_thread.run_sync(run_round, job, context)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s failed; trying again in %.1f s", job.name, job.every)
        await asyncio.sleep(max(schedule.wait(), 0.01))
