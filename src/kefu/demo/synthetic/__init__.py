"""``kefu demo --tickets N``: months of synthetic history at scale, for benchmarks and load tests.

On top of the demo (its team, groups and web chat channel; ``load_demo`` runs first if the
demo is missing), ``generate`` adds ``tickets`` tickets with their customers, messages, tags,
links and audit trail, about ``messages_per_ticket`` messages each, in bulk: ``COPY`` on
PostgreSQL, one ``executemany`` per table and batch on SQLite.

The parts, each its own module:

- ``history.py`` plans when cases arrive, what they are about, who writes and where each
  stands now, and yields the rows batch by batch (pure: a seeded ``random.Random``);
- ``tickets.py`` plans one ticket's conversation with the demo's planner and replays it
  through the domain rules the services use, so columns, messages and trail agree;
- ``customers.py``, ``fillers.py`` and ``analysis.py`` make the customers, the extra rounds of
  conversation, and what analysis would have read out of each message;
- ``rows.py`` holds the tables, the ids and the time order; ``writer.py`` writes.

The same seed, ``now`` and starting ids give the same rows.
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Group, Tag, User, WebchatChannel
from kefu.db.session import session_scope
from kefu.demo.content import load_content
from kefu.demo.loader import demo_exists, load_demo
from kefu.demo.synthetic.history import plan_history
from kefu.demo.synthetic.rows import TABLES, Batch, Ids
from kefu.demo.synthetic.tickets import Team
from kefu.demo.synthetic.writer import AFTER_BATCH, BulkStep, writer_for
from kefu.demo.team import ADMIN_EMAIL, DEMO_GROUPS, DEMO_USERS
from kefu.demo.webchat import DEMO_CHANNEL_KEY
from kefu.domain.roles import Role
from kefu.domain.sla import Budgets
from kefu.domain.tickets import Channel, Priority
from kefu.services.sla.clocks import Policies, calendar_of, default_calendar

__all__ = ["Report", "generate"]

DEFAULT_SEED = 2026
CUSTOMER_TAGS = ("VIP", "老客户", "港澳台")
PROGRESS_SECONDS = 5.0
PARALLEL_FROM = 5_000  # tickets: below, starting worker processes costs more than it saves
MAX_WORKERS = 4


@dataclass
class Report:
    """What one run wrote, and how fast."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # planning and writing, from the first row to the last commit
    write_seconds: float = 0.0  # of which the writer spent writing (in its own thread)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        tables = ", ".join(f"{name} {count:,}" for name, count in self.rows.items() if count)
        writing = self.total / self.write_seconds if self.write_seconds else 0.0
        return (
            f"{self.total:,} rows in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s; "
            f"writing alone {self.write_seconds:.1f} s, {writing:,.0f} rows/s): {tables}"
        )


def generate(
    engine: Engine,
    *,
    tickets: int,
    messages_per_ticket: float = 10,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    steps: Sequence[BulkStep] | None = None,
    workers: int | None = None,
) -> Report:
    """Add ``tickets`` synthetic tickets (and their customers, messages, trail) to the database.

    The schema must be current. Run it while nothing else writes: ids are allocated from the
    tables' current maximum. ``steps``: what runs after each batch (default ``AFTER_BATCH``).
    ``workers``: processes that make the tickets (default: one per CPU, none for a small run).
    """
    now = (now or utcnow()).replace(microsecond=0)
    with session_scope(engine) as session:
        if not demo_exists(session):
            load_demo(session)
    with session_scope(engine) as session:
        team = read_team(session)
        tag_ids = ensure_tags(session)
    content = load_content()
    rng = random.Random(seed)  # noqa: S311 - demo content, not secrets
    if workers is None:
        workers = min(MAX_WORKERS, os.cpu_count() or 1) if tickets >= PARALLEL_FROM else 0
    batches = partial(plan_history, rng, now, content, team, tickets=tickets,
                      messages_per_ticket=messages_per_ticket, tag_ids=tag_ids,
                      workers=workers)  # fmt: skip
    with _few_collections():
        return _write(engine, batches, AFTER_BATCH if steps is None else steps, progress)


def _write(
    engine: Engine,
    batches: Callable[..., Iterator[Batch]],
    steps: Sequence[BulkStep],
    progress: Callable[[str], None] | None,
) -> Report:
    """Plan and write; one thread writes the previous batch while this one plans the next
    (planning is CPU work, writing mostly waiting on the database)."""
    started = last_told = time.perf_counter()
    report = Report(rows=dict.fromkeys(TABLES, 0))
    with writer_for(engine) as writer, ThreadPoolExecutor(1, "kefu-synthetic") as pool:
        ids = Ids(writer.first_ids())
        pending: deque[Future[None]] = deque()
        for batch in batches(ids=ids):
            if len(pending) >= 2:
                pending.popleft().result()  # raises what the writer raised
            pending.append(pool.submit(_timed, report, writer.write_batch, batch, ids, steps))
            for table, rows in batch.rows.items():
                report.rows[table] += len(rows)
            report.seconds = time.perf_counter() - started
            if progress and time.perf_counter() - last_told >= PROGRESS_SECONDS:
                last_told = time.perf_counter()
                progress(_progress_line(report))
        while pending:
            pending.popleft().result()
        writer.finish()
    report.seconds = time.perf_counter() - started
    return report


def _timed(report: Report, write: Callable[..., None], *args: Any) -> None:
    started = time.perf_counter()
    write(*args)
    report.write_seconds += time.perf_counter() - started


@contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector less often: planning makes millions of short-lived tuples
    and dicts (freed by reference counting), which would trigger it every few hundred rows."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _progress_line(report: Report) -> str:
    return (
        f"  {report.rows['tickets']:,} tickets, {report.rows['messages']:,} messages, "
        f"{report.total:,} rows, {report.rows_per_second:,.0f} rows/s"
    )


def read_team(session: Session) -> Team:
    """The demo's staff, groups and web chat channel, by the names the plans use."""
    emails = [email for email, *_ in DEMO_USERS]
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    names = [name for name, _ in DEMO_GROUPS]
    groups = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(names)))}
    missing = sorted(set(emails) - set(users)) + sorted(set(names) - set(groups))
    if missing:
        raise RuntimeError(f"the demo team is incomplete (missing {', '.join(missing)})")
    channel_id = session.scalar(
        select(WebchatChannel.id).where(WebchatChannel.key == DEMO_CHANNEL_KEY)
    )
    return Team(
        user_ids={email: u.id for email, u in users.items()},
        roles={email: Role(u.role) for email, u in users.items()},
        group_ids={name: g.id for name, g in groups.items()},
        admin_id=users[ADMIN_EMAIL].id,
        webchat_channel_id=channel_id,
        budgets=budgets_of(Policies.load(session)),
        calendars={g.id: calendar_of(g) for g in groups.values()},
        default_calendar=default_calendar(),
    )


def budgets_of(policies: Policies) -> dict[tuple[str, str], Budgets]:
    """The SLA budgets of every channel and priority, as plain data (for worker processes)."""
    return {
        (c.value, p.value): policies.budgets(c.value, p.value) for c in Channel for p in Priority
    }


def ensure_tags(session: Session) -> dict[str, int]:
    """The ids of every tag the plans use, creating the missing ones."""
    wanted = {tag for s in load_content().scenarios for tag in s.tags} | set(CUSTOMER_TAGS)
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in sorted(wanted - set(existing)):
        existing[name] = Tag(name=name)
        session.add(existing[name])
    session.flush()
    return {name: tag.id for name, tag in existing.items()}
