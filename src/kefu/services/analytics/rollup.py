"""Keeping the pre-aggregated KPI figures correct: the ``kpi_rollup`` job and ``kefu kpi rebuild``.

What is stored (migration 0028): ``kpi_case_facts``, one row per case (``rollup_rows``);
``kpi_daily``, their sums per local day × agent × group × channel × category × priority ×
business line; ``kpi_daily_agents``, the same sums per day × agent × group × channel alone
(the dashboard's dimensions, far fewer rows); ``kpi_daily_moods``, cases per day × group ×
channel × emotion × sentiment; ``kpi_breach_hours``, SLA breaches per local day and hour
their clock ran out × group × channel × agent (``rollup_breaches``). Every change to a ticket, its messages, surveys, SLA events, bot conversation,
assignment trail or tags appends a mark to ``kpi_stale`` in the same transaction (database
triggers, db/kpi_triggers.py).

A refresh round, in one transaction: takes the oldest marks' tickets, reads every mark of those
tickets, recomputes their case rows with the shared fact code, recomputes the daily rows of every
day a case left or entered from ``kpi_case_facts`` (sums over the day, not increments: a round
cannot double-count), and deletes exactly the marks it read (a change committed meanwhile left a
new mark, done next round). Rounds are serialised on PostgreSQL by a transaction-scoped advisory
lock (``pg_try_advisory_xact_lock``: a second worker finds it taken and skips the round), on
SQLite by the write lock taken at BEGIN; so ``kpi_daily`` always equals the sums of
``kpi_case_facts`` as committed, and a round may run twice without harm (idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.db.models.analytics import (
    DASHBOARD_COLUMNS,
    SUM_COLUMNS,
    kpi_case_facts,
    kpi_daily,
    kpi_daily_agents,
    kpi_daily_moods,
    kpi_stale,
)
from kefu.services.analytics import rollup_breaches
from kefu.services.analytics.rollup_rows import SLICE_COLUMNS, case_rows

ROUND = 2000  # tickets per refresh round
ROUNDS_PER_JOB = 50  # rounds per job run (the next run goes on)
REBUILD_BATCH = 5000
LOCK_KEY = 0x6B70_6964  # the advisory lock of the rollup ("kpid")
_CHUNK = 1000  # values per IN (…) list


def take_lock(session: Session) -> bool:
    """The rollup's lock for this transaction; False when another refresh holds it."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}))
    # SQLite: the write lock (writers BEGIN IMMEDIATE; a no-op write takes it otherwise).
    session.execute(
        update(kpi_stale).where(kpi_stale.c.id < 0).values(ticket_id=kpi_stale.c.ticket_id)
    )
    return True


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def refresh_round(session: Session, limit: int = ROUND) -> int | None:
    """One round in the caller's transaction (the caller commits): the number of tickets
    recomputed, or None when another worker holds the lock."""
    if not take_lock(session):
        return None
    oldest = session.scalars(select(kpi_stale.c.ticket_id).order_by(kpi_stale.c.id).limit(limit))
    tickets = sorted(set(oldest))
    if not tickets:
        return 0
    marks: list[int] = []
    for chunk in _chunks(tickets):
        marks += session.scalars(select(kpi_stale.c.id).where(kpi_stale.c.ticket_id.in_(chunk)))
    write_cases(session, tickets)
    for chunk in _chunks(marks):
        session.execute(delete(kpi_stale).where(kpi_stale.c.id.in_(chunk)))
    return len(tickets)


def refresh_until_done(
    sessions: Callable[[], Session], *, limit: int = ROUND, rounds: int = ROUNDS_PER_JOB
) -> dict[str, int]:
    """Rounds, each its own transaction, until nothing is stale (or ``rounds`` were run)."""
    counts = {"cases": 0, "rounds": 0, "busy": 0}
    for _ in range(rounds):
        with sessions() as session:
            done = refresh_round(session, limit)
            session.commit()
        if done is None:
            counts["busy"] += 1
            break
        if not done:
            break
        counts["cases"] += done
        counts["rounds"] += 1
    return counts


def write_cases(session: Session, tickets: Sequence[int]) -> None:
    """Recompute the case rows of ``tickets`` and the daily rows of the days they touch."""
    days: set[date] = set()
    for chunk in _chunks(tickets):
        days.update(
            session.scalars(
                select(kpi_case_facts.c.day).where(kpi_case_facts.c.ticket_id.in_(chunk)).distinct()
            )
        )
        session.execute(delete(kpi_case_facts).where(kpi_case_facts.c.ticket_id.in_(chunk)))
        ids = select(Ticket.id).where(Ticket.id.in_(chunk), Ticket.merged_into_id.is_(None))
        rows = case_rows(session, ids)
        if rows:
            session.execute(insert(kpi_case_facts), rows)
        days.update(r["day"] for r in rows)
    recompute_days(session, sorted(days))
    rollup_breaches.recompute(session, rollup_breaches.breach_days(session, tickets))


def recompute_days(session: Session, days: Sequence[date] | None) -> None:
    """The daily rows of ``days`` (None: every day) from ``kpi_case_facts``."""
    for chunk in [None] if days is None else list(_chunks(days, 200)):
        for table, select_ in (
            (kpi_daily, _daily_sums(SLICE_COLUMNS)),
            (kpi_daily_agents, _daily_sums(DASHBOARD_COLUMNS)),
            (kpi_daily_moods, _mood_counts()),
        ):
            wipe = delete(table)
            if chunk is not None:
                wipe = wipe.where(table.c.day.in_(chunk))
                select_ = select_.where(kpi_case_facts.c.day.in_(chunk))
            session.execute(wipe)
            names = [c.name for c in select_.selected_columns]
            session.execute(insert(table).from_select(names, select_))


def _daily_sums(slice_columns: Sequence[str]) -> Any:
    keys = [kpi_case_facts.c[c] for c in slice_columns]
    sums = [func.sum(kpi_case_facts.c[c]).label(c) for c in SUM_COLUMNS]
    return select(*keys, func.count().label("cases"), *sums).group_by(*keys)


def _mood_counts() -> Any:
    keys = [kpi_case_facts.c[c] for c in ("day", "group_id", "channel", "emotion", "sentiment")]
    return select(*keys, func.count().label("cases")).group_by(*keys)


@dataclass
class RebuildReport:
    cases: int = 0
    marks_cleared: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0.0
        return (
            f"{self.cases:,} cases rolled up in {self.seconds:.1f} s ({rate:,.0f} cases/s); "
            f"{self.marks_cleared:,} stale marks cleared"
        )


def rebuild(
    sessions: Callable[[], Session],
    *,
    batch: int = REBUILD_BATCH,
    progress: Callable[[str], None] | None = None,
) -> RebuildReport:
    """Every case row and daily row made again from the raw rows, in one transaction (readers
    see the old figures until it commits): batches of ``batch`` tickets by id through the shared
    fact code, then the daily sums in one ``INSERT … SELECT``. The marks present at the start
    are cleared; marks of changes made meanwhile stay for the job."""
    started = time.perf_counter()
    report = RebuildReport()
    with sessions() as session:
        if not take_lock(session):
            raise RuntimeError("a KPI refresh is running; try again when it is done")
        marks = list(session.scalars(select(kpi_stale.c.id)))
        session.execute(delete(kpi_case_facts))
        last = 0
        total = session.scalar(select(func.count()).select_from(Ticket)) or 0
        while True:
            ids = session.scalars(
                select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
            ).all()
            if not ids:
                break
            last = ids[-1]
            chosen = select(Ticket.id).where(
                Ticket.id >= ids[0], Ticket.id <= last, Ticket.merged_into_id.is_(None)
            )
            rows = case_rows(session, chosen)
            if rows:
                session.execute(insert(kpi_case_facts), rows)
            report.cases += len(rows)
            if progress:
                elapsed = time.perf_counter() - started
                progress(f"  {report.cases:,} cases ({last:,} of ~{total:,} ids), {elapsed:.0f} s")
        recompute_days(session, None)
        rollup_breaches.recompute(session, None)
        for chunk in _chunks(marks, 10_000):
            session.execute(delete(kpi_stale).where(kpi_stale.c.id.in_(chunk)))
        report.marks_cleared = len(marks)
        session.commit()
    report.seconds = time.perf_counter() - started
    return report
