"""The job runner: each job at its own pace, a failing job never stops the others."""

from __future__ import annotations

import threading

import pytest

from kefu.db.base import utcnow
from kefu.jobs import runner
from kefu.jobs.registry import Job, JobContext, periodic_jobs
from kefu.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_job_is_due_at_its_own_interval():
    clock = FakeClock()
    fast, slow = Job("fast", 1.0, lambda _: {}), Job("slow", 5.0, lambda _: {})
    schedule = runner.Schedule([fast, slow], clock)
    assert [j.name for j in schedule.due()] == ["fast", "slow"]  # everything runs at start
    for job in schedule.due():
        schedule.started(job)
    clock.now = 1.0
    assert [j.name for j in schedule.due()] == ["fast"]
    schedule.started(fast)
    assert schedule.wait() == pytest.approx(1.0)
    clock.now = 5.0
    assert [j.name for j in schedule.due()] == ["fast", "slow"]


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    ran: list[str] = []

    def broken(_: JobContext) -> dict[str, int]:
        ran.append("broken")
        raise RuntimeError("database went away")

    def fine(_: JobContext) -> dict[str, int]:
        ran.append("fine")
        return {"checked": 3}

    stop = threading.Event()
    rounds = iter(range(3))

    def counting(_: JobContext) -> dict[str, int]:
        if next(rounds) == 2:
            stop.set()
        return {}

    jobs = [Job("broken", 0.0, broken), Job("fine", 0.0, fine), Job("stopper", 0.0, counting)]
    context = JobContext(lambda: None, utcnow, Settings())  # type: ignore[arg-type, return-value]
    done = runner.run_worker(jobs, context, stop)
    assert ran.count("broken") == 3 and ran.count("fine") == 3
    assert done["fine"] == {"checked": 3} and "broken" not in done
    assert "job broken failed" in caplog.text
    with pytest.raises(RuntimeError):
        runner.run_worker(jobs, context, threading.Event(), once=True)


def test_the_registry_lists_the_sla_sweep_at_its_configured_pace():
    [sla] = [j for j in periodic_jobs(Settings(sla_sweep_seconds=7)) if j.name == "sla"]
    assert sla.every == 7 and sla.summary
