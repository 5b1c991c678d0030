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
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.demo.content import Content, Scenario
from kefu.demo.plan import choose_status
from kefu.demo.synthetic.customers import (
    CHANNEL_WEIGHTS,
    IMPORTED_SHARE,
    CustomerPool,
    CustomerRecord,
    choose_channel,
)
from kefu.demo.synthetic.rows import Batch, Ids, Rows, Timeline
from kefu.demo.synthetic.tickets import Outcome, Team, TicketWriter
from kefu.domain.repeat_complaints import EarlierCase
from kefu.domain.tickets import Channel

WINDOW_DAYS = 182
CUSTOMERS_PER_TICKET = 0.25
CRISIS_SCALE = 0.15  # P1 scenarios are rarer in a real team's history than in the demo
STAFF_MADE_SHARE = 0.02  # cases a staff member opens for a customer (channel "web")
NEW_CHANNEL_SHARE = 0.1  # a known customer writing on a channel they have not used before
MAX_ROUNDS = 40
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
) -> Iterator[Batch]:
    """The batches of rows of ``tickets`` tickets; ``ids`` hands out their ids."""
    rows, timeline = Rows(ids, tag_ids), Timeline()
    planner = _Planner(rng, now, content, team, rows, timeline, tickets, messages_per_ticket)
    planner.pool.import_customers(
        round(tickets * CUSTOMERS_PER_TICKET * IMPORTED_SHARE),
        now - timedelta(days=window_days + 20),
        team.admin_id,
    )
    arrivals = arrival_plan(rng, now, tickets, window_days)
    for i, (start, forced) in enumerate(arrivals):
        planner.plan(start, forced, remaining=tickets - i)
        timeline.release(before=arrivals[i + 1][0] if i + 1 < len(arrivals) else None)
        if len(rows) >= batch_rows:
            yield rows.take()
    timeline.release()
    if len(rows):
        yield rows.take()


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
    """Chooses scenario, customer, channel and outcome of each ticket, and writes it."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        content: Content,
        team: Team,
        rows: Rows,
        timeline: Timeline,
        tickets: int,
        messages_per_ticket: float,
    ) -> None:
        self.rng = rng
        self.now = now
        self.content = content
        self.rows = rows
        self.pool = CustomerPool(rng, content, rows.ids, rows)
        self.writer = TicketWriter(content, team, rows, timeline, now)
        self.customers_wanted = max(1, round(tickets * CUSTOMERS_PER_TICKET))
        self.messages_per_ticket = messages_per_ticket
        self.scenarios = content.scenarios
        self.weights = [
            s.weight * (CRISIS_SCALE if s.labels.priority == "P1" else 1.0) for s in self.scenarios
        ]
        self.unseen = rng.sample(list(self.scenarios), len(self.scenarios))
        self.unseen_channels = [c.value for c in Channel]
        rng.shuffle(self.unseen_channels)
        self.busy: dict[tuple[int, str], datetime] = {}
        self.complaints: dict[int, list[EarlierCase]] = {}
        self.planned = 0
        self.messages = 0

    def plan(self, start: datetime, forced: Forced | None, *, remaining: int) -> None:
        rng = self.rng
        scenario = self._scenario(forced, remaining)
        customer, channel = self._customer_and_channel(scenario, start, remaining)
        outcome = forced.outcome if forced else outcome_by_age(rng, self.now - start, scenario)
        ticket_id = self.rows.ids.next("tickets")
        ticket_rng = random.Random(rng.getrandbits(64))  # noqa: S311 - demo content
        recent = [
            e
            for e in self.complaints.get(customer.id, ())
            if start - e.created_at <= timedelta(days=30)
        ]
        written = self.writer.write(
            ticket_rng, ticket_id, scenario, customer, channel, start, outcome,
            rounds=self._rounds(ticket_rng, scenario), earlier_complaints=recent,
        )  # fmt: skip
        if channel != "web":
            self.busy[(customer.id, channel)] = written.busy_until
        if written.complaint is not None:
            self.complaints[customer.id] = [*recent, written.complaint]
        self.planned += 1
        self.messages += written.messages

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
        if scenario in self.unseen:
            self.unseen.remove(scenario)
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

    def _rounds(self, rng: random.Random, scenario: Scenario) -> int:
        """Extra rounds for this ticket, so that the average stays near the target."""
        target = self.messages_per_ticket
        owed = target * self.planned - self.messages
        wanted = min(max(target + owed / 10, 1.0), 4 * target)
        base = sum(1 for t in scenario.turns if t.kind != "status")
        mean = (wanted - base) / 2.1  # a round is two messages, now and then a note
        if mean <= 0:
            return 0
        return min(MAX_ROUNDS, round(rng.expovariate(1 / mean)))
