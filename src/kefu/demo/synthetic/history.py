"""Planning months of history: when cases arrive, what they are about, who writes, where they stand.

``plan_history`` yields batches of rows, ticket after ticket in the order they were opened.
What it decides:

- **When**: over the last ``window_days``, more on weekdays than at weekends, more in the
  daytime in China (UTC+8), with peaks after the shopping festivals (618, 双11, 双12) and a team
  that grew over the months.
- **What**: the demo's scenarios by their weights (crises scaled down to a real team's handful),
  every scenario at least once when there are enough tickets.
- **Who and where**: a customer by how often they write, or a new one (about one customer per
  four tickets in all), on one of their channels or a new one; every channel kefu knows
  appears. A customer never has two open cases on one channel, as intake would thread them.
- **Where it stands**: by age — cases from the last hours are new or in work, older ones
  resolved and closed, a few hundred open in all at 100,000 tickets. The most recent tickets
  include every status, stage of the complaint loop and kind of waiting, whatever the count.
- **How long**: about ``messages_per_ticket`` messages on average, longer conversations getting
  more rounds in the middle (``fillers.py``).

These decisions are cheap and made in order; making each ticket from them (``tickets.py``) is
the expensive part, and depends on nothing but its job, so with ``workers`` it runs in worker
processes while this one puts the results in time order and gives them ids. Either way the
rows are the same.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kefu.demo.content import Content, Scenario
from kefu.demo.plan import choose_status
from kefu.demo.synthetic.customers import (
    CHANNEL_WEIGHTS,
    IMPORTED_SHARE,
    CustomerPool,
    CustomerRecord,
    NewRows,
    choose_channel,
)
from kefu.demo.synthetic.rows import Batch, Ids, Rows, TicketSink, Timeline
from kefu.demo.synthetic.tickets import (
    Outcome,
    Team,
    TicketJob,
    TicketMaker,
    TicketResult,
    extendable,
    make_tickets,
    start_worker,
)
from kefu.domain.repeat_complaints import EarlierCase
from kefu.domain.tickets import Channel

WINDOW_DAYS = 182
CUSTOMERS_PER_TICKET = 0.25
CRISIS_SCALE = 0.15  # P1 scenarios are rarer in a real team's history than in the demo
STAFF_MADE_SHARE = 0.02  # cases a staff member opens for a customer (channel "web")
NEW_CHANNEL_SHARE = 0.1  # a known customer writing on a channel they have not used before
MAX_ROUNDS = 40
# A customer's case on a channel takes their next message there for this long after it
# opens, if it is done by now (a case still open: for good).
BUSY = timedelta(days=5)
FOREVER = datetime.max.replace(tzinfo=UTC)
ROUND_MESSAGES = 2.12  # a round is two messages, now and then a note (fillers.NOTE_SHARE)
CHUNK = 64  # tickets per task of a worker process
AHEAD = 8  # tasks in flight
CHINA = timedelta(hours=8)
# (maximum age in days, weights of where a case stands at that age)
STATUS_BY_AGE: list[tuple[float, dict[str, int]]] = [
    (1 / 24, {"new": 55, "open": 30, "pending": 5, "resolved": 10}),
    (1, {"new": 12, "open": 28, "pending": 10, "resolved": 50}),
    (3, {"new": 1, "open": 8, "pending": 10, "resolved": 51, "closed": 30}),
    (10, {"open": 1, "pending": 2, "resolved": 7, "closed": 90}),
    (float("inf"), {"resolved": 1, "closed": 99}),
]
COMPLAINT_STAGES = {"registered": 30, "analyzing": 35, "resolving": 35}
WAITING = {"customer": 70, "third_party": 30}
# Customers write in the daytime in China: relative volume per local hour.
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 11, 9, 9, 10, 10, 9, 8, 8, 9, 11, 12, 10, 5)
WEEKDAY_WEIGHTS = (1.1, 1.05, 1.0, 1.0, 1.0, 0.85, 0.8)  # Monday first
# (month, first day, last day, factor): after-sales peaks after the shopping festivals.
PEAKS = ((6, 18, 28, 1.6), (11, 11, 22, 2.2), (12, 12, 16, 1.4))
# Every status, complaint stage and kind of waiting among the most recent tickets, with the
# age range (days) at which a case plausibly stands there: (complaint?, outcome, ages).
COVERAGE: tuple[tuple[bool, Outcome, tuple[float, float]], ...] = (
    (False, Outcome("new"), (0.005, 0.03)),
    (False, Outcome("open"), (0.05, 1.5)),
    (False, Outcome("pending", waiting="customer"), (0.2, 2)),
    (False, Outcome("pending", waiting="third_party"), (0.2, 2)),
    (False, Outcome("resolved"), (0.5, 2.5)),
    (False, Outcome("closed"), (6, 30)),
    (True, Outcome("new", stage="registered"), (0.005, 0.03)),
    (True, Outcome("open", stage="registered"), (0.05, 1)),
    (True, Outcome("open", stage="analyzing"), (0.3, 2)),
    (True, Outcome("open", stage="resolving"), (0.5, 3)),
    (True, Outcome("pending", stage="analyzing", waiting="customer"), (0.5, 3)),
    (True, Outcome("pending", stage="resolving", waiting="third_party"), (0.5, 3)),
    (True, Outcome("resolved"), (0.5, 2.5)),
    (True, Outcome("closed"), (6, 30)),
)


@dataclass(frozen=True)
class Forced:
    complaint: bool
    outcome: Outcome


def plan_history(
    rng: random.Random,
    now: datetime,
    content: Content,
    team: Team,
    ids: Ids,
    tag_ids: dict[str, int],
    *,
    tickets: int,
    messages_per_ticket: float = 10,
    window_days: int = WINDOW_DAYS,
    batch_rows: int = 25_000,
    workers: int = 0,
) -> Iterator[Batch]:
    """The batches of rows of ``tickets`` tickets; ``ids`` hands out their ids. ``workers``:
    how many processes make the tickets (0: this one)."""
    rows, timeline = Rows(ids), Timeline()
    planner = _Planner(rng, now, content, ids, tag_ids, tickets, messages_per_ticket)
    planner.pool.import_customers(
        round(tickets * CUSTOMERS_PER_TICKET * IMPORTED_SHARE),
        now - timedelta(days=window_days + 20),
        team.admin_id,
    )
    planner.pool.take_new().write_to(rows)
    arrivals = arrival_plan(rng, now, tickets, window_days)
    jobs = (
        planner.job(start, forced, remaining=tickets - i)
        for i, (start, forced) in enumerate(arrivals)
    )
    with _ticket_maker(content, team, now, workers) as make:
        for i, (job, new_rows, result) in enumerate(make(jobs)):
            new_rows.write_to(rows)
            _write_ticket(rows, timeline, job, result, tag_ids)
            timeline.release(before=arrivals[i + 1][0] if i + 1 < len(arrivals) else None)
            if len(rows) >= batch_rows:
                yield rows.take()
    timeline.release()
    if len(rows):
        yield rows.take()


def _write_ticket(
    rows: Rows, timeline: Timeline, job: TicketJob, result: TicketResult, tag_ids: dict[str, int]
) -> None:
    """The ticket's row and tags now; its messages and events when the timeline reaches them."""
    rows.add("tickets", result.row)
    for tag in result.tags:
        rows.add("ticket_tags", (job.ticket_id, tag_ids[tag]))
    sink = TicketSink(rows, job.ticket_id, job.customer_id, job.channel)
    for at, method, args in result.events:
        timeline.add(at, getattr(sink, method), *args, at)


Planned = tuple[TicketJob, NewRows]
Made = tuple[TicketJob, NewRows, TicketResult]


@contextmanager
def _ticket_maker(
    content: Content, team: Team, now: datetime, workers: int
) -> Iterator[Callable[[Iterable[Planned]], Iterator[Made]]]:
    """What turns planned jobs into tickets, in order: this process, or a pool of workers."""
    if workers <= 0:
        maker = TicketMaker(content, team, now)
        yield lambda planned: ((job, new, maker.make(job)) for job, new in planned)
        return
    # Forked workers start at once with what this process has loaded, and nothing imports the
    # caller's main module again (spawn would); they only compute, so threads of this process
    # (a server in tests) do not matter to them.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(workers, initializer=start_worker, initargs=(team, now)) as pool:
        yield lambda planned: _in_workers(pool, planned)


def _in_workers(pool: multiprocessing.pool.Pool, planned: Iterable[Planned]) -> Iterator[Made]:
    """Chunks of jobs to the workers, a few in flight, results in the jobs' order."""
    pending: deque[tuple[list[Planned], multiprocessing.pool.AsyncResult[list[TicketResult]]]]
    pending = deque()
    iterator = iter(planned)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        pending.append((chunk, pool.apply_async(make_tickets, ([job for job, _ in chunk],))))
        if len(pending) >= AHEAD:
            yield from _made(*pending.popleft())
    while pending:
        yield from _made(*pending.popleft())


def _made(
    chunk: list[Planned], results: multiprocessing.pool.AsyncResult[list[TicketResult]]
) -> Iterator[Made]:
    for (job, new_rows), result in zip(chunk, results.get(), strict=True):
        yield job, new_rows, result


def arrival_plan(
    rng: random.Random, now: datetime, count: int, window_days: int
) -> list[tuple[datetime, Forced | None]]:
    """When each ticket arrives, oldest first; the ones that must cover a status get an age that
    suits it."""
    starts: list[tuple[datetime, Forced | None]] = [
        (arrival_time(rng, now, window_days), None) for _ in range(max(0, count - len(COVERAGE)))
    ]
    for complaint, outcome, (low, high) in COVERAGE[: min(count, len(COVERAGE))]:
        at = now - timedelta(days=rng.uniform(low, min(high, window_days)))
        starts.append((at, Forced(complaint, outcome)))
    starts.sort(key=lambda s: s[0])
    return starts


def arrival_time(rng: random.Random, now: datetime, window_days: int) -> datetime:
    """A moment in the window, weighted by weekday, season, growth and the hour in China."""
    latest = now - timedelta(minutes=10)
    local_now = now + CHINA
    while True:
        days = rng.uniform(0, window_days)
        local_day = (local_now - timedelta(days=days)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        weight = (
            WEEKDAY_WEIGHTS[local_day.weekday()]
            * _peak(local_day)
            * (0.7 + 0.6 * (1 - days / window_days))  # the team (and the shop) grew
        )
        if rng.random() * 2.2 * 1.1 * 1.3 > weight:
            continue
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0] + rng.random()
        start = local_day + timedelta(hours=hour) - CHINA
        if start <= latest:
            return start


def _peak(day: datetime) -> float:
    for month, first, last, factor in PEAKS:
        if day.month == month and first <= day.day <= last:
            return factor
    return 1.0


def outcome_by_age(rng: random.Random, age: timedelta, scenario: Scenario) -> Outcome:
    """Where a case of this age stands (the demo's rule over a real team's ages), and for a
    complaint in work its stage; what a pending case waits on."""
    status = choose_status(rng, age, scenario, STATUS_BY_AGE)
    complaint = scenario.labels.intent == "complaint"
    stage = _pick(rng, COMPLAINT_STAGES) if complaint and status in ("open", "pending") else None
    if complaint and status == "new":
        stage = "registered"
    waiting = _pick(rng, WAITING) if status == "pending" else None
    return Outcome(status, stage, waiting)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Planner:
    """Chooses scenario, customer, channel, outcome and length of each ticket."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        content: Content,
        ids: Ids,
        tag_ids: dict[str, int],
        tickets: int,
        messages_per_ticket: float,
    ) -> None:
        self.rng = rng
        self.now = now
        self.content = content
        self.ids = ids
        self.pool = CustomerPool(rng, content, ids, tag_ids)
        self.customers_wanted = max(1, round(tickets * CUSTOMERS_PER_TICKET))
        self.messages_per_ticket = messages_per_ticket
        self.scenarios = content.scenarios
        self.index = {id(s): i for i, s in enumerate(self.scenarios)}
        self.weights = [
            s.weight * (CRISIS_SCALE if s.labels.priority == "P1" else 1.0) for s in self.scenarios
        ]
        self.unseen = rng.sample(list(self.scenarios), len(self.scenarios))
        self.unseen_ids = {id(s) for s in self.unseen}  # scenarios compare field by field: slow
        self.unseen_channels = [c.value for c in Channel]
        rng.shuffle(self.unseen_channels)
        self.busy: dict[tuple[int, str], datetime] = {}
        self.complaints: dict[int, list[EarlierCase]] = {}
        self.planned = 0
        self.messages = 0.0  # expected so far

    def job(self, start: datetime, forced: Forced | None, *, remaining: int) -> Planned:
        """The next ticket's job, and the customer rows it made."""
        rng = self.rng
        scenario = self._scenario(forced, remaining)
        customer, channel = self._customer_and_channel(scenario, start, remaining)
        outcome = forced.outcome if forced else outcome_by_age(rng, self.now - start, scenario)
        ticket_id = self.ids.next("tickets")
        recent = tuple(
            e
            for e in self.complaints.get(customer.id, ())
            if start - e.created_at <= timedelta(days=30)
        )
        rounds = self._rounds(scenario, outcome)
        job = TicketJob(ticket_id, rng.getrandbits(64), self.index[id(scenario)], customer.id,
                        customer.profile, channel, start, outcome, rounds, recent)  # fmt: skip
        if channel != "web":
            done = outcome.status in ("resolved", "closed")
            self.busy[(customer.id, channel)] = start + BUSY if done else FOREVER
        if scenario.labels.intent == "complaint":
            self.complaints[customer.id] = [
                *recent,
                EarlierCase(ticket_id, scenario.labels.category, start),
            ]
        return job, self.pool.take_new()

    def _scenario(self, forced: Forced | None, remaining: int) -> Scenario:
        rng = self.rng
        if forced is not None:
            fits = [
                (s, w) for s, w in zip(self.scenarios, self.weights, strict=True)
                if (s.labels.intent == "complaint") == forced.complaint
                and s.labels.priority != "P1"
                and (s.statuses is None or forced.outcome.status in s.statuses)
            ]  # fmt: skip
            scenario = rng.choices([s for s, _ in fits], weights=[w for _, w in fits])[0]
        elif self.unseen and rng.random() < len(self.unseen) / remaining:
            scenario = self.unseen[-1]
        else:
            scenario = rng.choices(self.scenarios, weights=self.weights)[0]
        if id(scenario) in self.unseen_ids:
            self.unseen_ids.discard(id(scenario))
            self.unseen = [s for s in self.unseen if s is not scenario]
        return scenario

    def _customer_and_channel(
        self, scenario: Scenario, start: datetime, remaining: int
    ) -> tuple[CustomerRecord, str]:
        rng, pool = self.rng, self.pool
        traditional = scenario.script == "hant"
        new_left = self.customers_wanted - len(pool)
        wants_new = new_left > 0 and rng.random() < new_left / remaining
        for _ in range(6):
            customer = None if wants_new else pool.pick(traditional=traditional)
            if customer is None:
                break
            channel = self._channel(scenario, customer.profile.channels, remaining)
            if channel == "web" or self.busy.get((customer.id, channel), start) <= start:
                if channel != "web" and channel not in customer.profile.channels:
                    pool.add_identity(customer, channel, start)
                return customer, channel
        channel = self._channel(scenario, (), remaining)
        return pool.create(start, channel, traditional=traditional), channel

    def _channel(self, scenario: Scenario, own: tuple[str, ...], remaining: int) -> str:
        rng, allowed = self.rng, scenario.channels
        if self.unseen_channels and rng.random() < len(self.unseen_channels) / remaining:
            fits = [c for c in self.unseen_channels if allowed is None or c in allowed]
            if fits:
                self.unseen_channels.remove(fits[0])
                return fits[0]
        if allowed is None and rng.random() < STAFF_MADE_SHARE:
            channel = "web"
        else:
            usable = [c for c in own if allowed is None or c in allowed]
            if usable and rng.random() >= NEW_CHANNEL_SHARE:
                weights = [CHANNEL_WEIGHTS.get(c, 1) for c in usable]
                channel = rng.choices(usable, weights=weights)[0]
            else:
                channel = choose_channel(rng, allowed)
        if channel in self.unseen_channels:
            self.unseen_channels.remove(channel)
        return channel

    def _rounds(self, scenario: Scenario, outcome: Outcome) -> int:
        """Extra rounds for this ticket, so that the average stays near the target. Only a
        finished conversation plays all its rounds; one in progress has a few messages."""
        base = sum(1 for t in scenario.turns if t.kind != "status")
        self.planned += 1
        if outcome.status not in ("resolved", "closed"):
            self.messages += 1 if outcome.status == "new" else 3
            return 0
        if not extendable(scenario):
            self.messages += base
            return 0
        target = self.messages_per_ticket
        owed = target * (self.planned - 1) - self.messages
        wanted = min(max(target + owed / 10, 1.0), 4 * target)
        mean = (wanted - base) / ROUND_MESSAGES
        rounds = min(MAX_ROUNDS, round(self.rng.expovariate(1 / mean))) if mean > 0 else 0
        self.messages += base + ROUND_MESSAGES * rounds
        return rounds
