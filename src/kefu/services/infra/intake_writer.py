"""The intake writer: request handlers hand it deliveries, it writes them in batches.

Each intake request waits on a future while one writer thread turns whatever has queued
up into rows with ``inbound.receive_batch``, in one transaction, and commits; only then
are the requests answered, so an acknowledged message is always stored. Under load, a
batch fills up while the previous one is written, which turns hundreds of small
transactions (and their commits) into a few large ones; when idle, a message is written
on its own at once, so batching adds no wait.

If a batch fails on something other than a refused delivery (a database error, a bug),
it is rolled back and its deliveries are written again one by one, so that only the
delivery at fault fails; its raw payload is kept with the error. While the database cannot
be reached at all, each delivery answers 503 ``database_unavailable`` (deliver it again). A
message whose analysis raises is not a failure of its delivery: it is stored and answered like
the others, flagged, and analyzed again later (services/intake/analysis_retry.py). Whatever happens to
one batch, the writer answers its requests and goes on with the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.db.errors import database_unreachable
from kefu.errors import DatabaseUnavailable, KefuError
from kefu.nlp.analysis import Analyzer, analyzer
from kefu.services.intake.inbound import (
    AttachmentLimits,
    CaseRules,
    Delivery,
    Outcome,
    analyze_deliveries,
    receive_batch,
    store_failed,
)

log = logging.getLogger(__name__)

MAX_BATCH = 200
MAX_QUEUE = 5_000
# Under load, wait this long for more messages before writing a batch that is not full:
# requests answered by the last batch come back a moment later, and a batch of one costs
# nearly as much as a batch of twenty. When idle, nothing waits.
LINGER_SECONDS = 0.002
BUSY_WINDOW_SECONDS = 0.05  # a batch ended this recently: we are under load


class IntakeWriter:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        limits: AttachmentLimits,
        *,
        admit: Callable[[], AbstractAsyncContextManager[object]],
        max_batch: int = MAX_BATCH,
        max_queue: int = MAX_QUEUE,
        linger: float = LINGER_SECONDS,
        analysis: Callable[[], Analyzer] = analyzer,
        rules: CaseRules | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.rules = rules or CaseRules()  # reopen and repeat-complaint windows
        self.analysis = analysis  # the analyzer of every message: the fast path or the accurate one
        self.limits = limits
        self.admit = admit  # held around each batch: a connection slot, SQLite's write turn
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.linger = linger
        self._last_batch_end = float("-inf")
        self._queue: list[tuple[Delivery, asyncio.Future[Outcome]]] = []
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-intake")
        self.batches = 0  # how many transactions were written, for tests and benchmarks

    @property
    def pending(self) -> int:
        """Deliveries waiting for their batch (the /metrics intake queue)."""
        return len(self._queue)

    async def submit(self, delivery: Delivery) -> Outcome:
        """Queue one delivery and wait until its batch is committed (or refused)."""
        if len(self._queue) >= self.max_queue:
            raise KefuError("intake_busy", status_code=503, retry_after=1)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((delivery, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        # Shielded: a caller that gives up does not cancel the write of its message.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        while self._task is not None:
            await asyncio.shield(self._task)
        self._thread.shutdown(wait=True)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                busy = loop.time() - self._last_batch_end < BUSY_WINDOW_SECONDS
                if busy and self.linger > 0 and len(self._queue) < self.max_batch:
                    await asyncio.sleep(self.linger)
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                deliveries = [delivery for delivery, _ in batch]
                try:
                    # Analysis (CPU) first, outside the admission slot and the transaction;
                    # a message that cannot be analyzed is stored all the same, flagged.
                    deliveries = await loop.run_in_executor(self._thread, self._analyze, deliveries)
                    async with self.admit():
                        outcomes = await loop.run_in_executor(self._thread, self._write, deliveries)
                except asyncio.CancelledError:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(RuntimeError("intake stopped"))
                    raise
                except Exception as e:  # not expected: _write settles every delivery
                    # Answer this batch with the error and go on with the queue: the loop must
                    # not die and leave the deliveries queued behind it waiting for a new request.
                    log.exception("intake batch of %d failed", len(batch))
                    outcomes = [_unexpected(e)] * len(batch)
                self._last_batch_end = loop.time()
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._task = None

    # --- in the writer thread ----------------------------------------------------------

    def _analyze(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        return analyze_deliveries(deliveries, self.analysis)

    def _write(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        self.batches += 1
        with self.session_factory() as session:
            try:
                outcomes = receive_batch(session, deliveries, self.limits, self.rules)
                session.commit()
                return outcomes
            except Exception as e:
                session.rollback()
                if len(deliveries) == 1:
                    return [self._fail(session, deliveries[0], e)]
                log.warning(
                    "intake batch of %d failed; writing its messages one by one",
                    len(deliveries),
                    exc_info=True,
                )
        return [self._write_one(delivery) for delivery in deliveries]

    def _write_one(self, delivery: Delivery) -> Outcome:
        with self.session_factory() as session:
            try:
                [outcome] = receive_batch(session, [delivery], self.limits, self.rules)
                session.commit()
                return outcome
            except Exception as e:
                session.rollback()
                return self._fail(session, delivery, e)

    def _fail(self, session: Session, delivery: Delivery, error: Exception) -> Outcome:
        channel, external_id = delivery.key
        if database_unreachable(error):  # nothing was stored, nothing can be: deliver again later
            log.warning("intake of %s message %s: database unreachable", channel, external_id)
            return DatabaseUnavailable()
        log.error("intake of %s message %s failed", channel, external_id, exc_info=error)
        try:
            store_failed(session, delivery, f"{type(error).__name__}: {error}")
        except Exception:
            session.rollback()
            log.exception(
                "could not keep the failed payload of %s message %s", channel, external_id
            )
        if isinstance(error, KefuError):  # said plainly (a full disk: 507 storage_full)
            return error
        return KefuError("inbound_failed", status_code=500)


def _unexpected(error: Exception) -> KefuError:
    """The answer to a delivery whose batch failed outside ``_write``: a refusal as it is, a
    database failure as inbound_failed (the client delivers again), anything else as a 500."""
    if isinstance(error, KefuError):
        return error
    if database_unreachable(error):
        return DatabaseUnavailable()
    if isinstance(error, SQLAlchemyError):
        return KefuError("inbound_failed", status_code=500)
    return KefuError("internal_error", status_code=500)
