"""The database admission gates (api/database_gate.py)."""

from __future__ import annotations

import asyncio

from kefu.api.database_gate import DatabaseAdmission, admission_slots


def test_admission_works_again_when_the_app_runs_on_a_new_event_loop():
    """A test client's second lifespan runs the same app on a new loop; contended gates that the
    first loop bound must not fail there ("bound to a different event loop")."""
    admission = DatabaseAdmission(slots=1, serialize_writes=True)

    async def contended() -> list[int]:
        order: list[int] = []

        async def write(n: int) -> None:
            async with admission.writer():
                await asyncio.sleep(0.01)
                order.append(n)

        await asyncio.gather(write(1), write(2), write(3))
        return order

    assert asyncio.run(contended()) == [1, 2, 3]
    assert asyncio.run(contended()) == [1, 2, 3]  # a second loop


def test_fewer_requests_are_admitted_than_there_are_worker_threads():
    """A sync handler needs a second thread to validate its answer before it commits; admitting
    as many requests as threads let lock waiters take every thread and freeze the process (#16)."""
    assert admission_slots(pool_slots=30, worker_threads=8) == 7
    assert admission_slots(pool_slots=5, worker_threads=8) == 5  # and never more than the pool
    assert admission_slots(pool_slots=30, worker_threads=1) == 1
