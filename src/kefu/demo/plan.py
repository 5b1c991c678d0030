"""Planning the demo tickets: who writes about what, on which channel, when, and how it ends.

Pure functions of a seeded ``random.Random`` and "now": nothing here touches the database,
so the whole plan can be checked in tests. The loader then plays the steps, in time order,
through the services.

Two rules keep the plan playable. Inbound threading appends a customer's message to their
open ticket on the same channel, so a customer never has two open cases on one channel at
once (``busy_until``). And every timestamp lies in the past: a conversation that would run
past now is squeezed into the time there is.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kefu.demo.content import Catalog, Content, Product, Scenario, Turn, render
from kefu.demo.people import CustomerProfile
from kefu.demo.team import PRESALE, Member, handlers_of, supervisor

TICKETS = 320
WINDOW_DAYS = 60
RECENT_DAYS = 7
# A live inbox: more of the cases are from the last week, and some from today.
TODAY_SHARE = 0.1
RECENT_SHARE = 0.27
CHINA_OFFSET = timedelta(hours=8)
DAYTIME_SHARE = 0.85  # customers write mostly between 08:00 and 23:00 Beijing time
OPEN_STATUSES = ("new", "open", "pending")
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
# Emoji and picture markers, which a phone call's transcript cannot contain.
NOT_SPOKEN = re.compile(r"[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]|\[图片\]\s*")
# A ticket uses variant (thread % n) of every turn with n variants; 12 is a multiple of
# every n used (1-4), so each variant is equally likely.
THREADS = 12
FIRST_REPLY_MINUTES = {"P1": (3, 20), "P2": (5, 90), "P3": (10, 240), "P4": (10, 480)}
AUTO_CLOSE = timedelta(hours=72)  # resolved cases close by themselves after three days
# (maximum age in days, weights of the final statuses at that age)
STATUS_BY_AGE: list[tuple[float, dict[str, int]]] = [
    (1, {"new": 45, "open": 25, "pending": 10, "resolved": 20}),
    (4, {"new": 10, "open": 25, "pending": 25, "resolved": 40}),
    (10, {"open": 5, "pending": 10, "resolved": 40, "closed": 45}),
    (float("inf"), {"resolved": 5, "closed": 95}),
]


@dataclass(frozen=True)
class Step:
    """One thing that happens to a ticket, at one moment, by one actor (None: the system)."""

    kind: str  # inbound | triage | claim | assign | reply | note | status
    at: datetime
    actor: str | None = None
    text: str = ""
    status: str | None = None


@dataclass
class TicketPlan:
    number: int
    scenario: Scenario
    customer: CustomerProfile
    channel: str
    status: str
    group: str | None
    assignee: str | None
    subject: str | None
    tags: list[str]
    steps: list[Step] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.steps[0].at

    @property
    def busy_until(self) -> datetime:
        """Until when the ticket may still catch the customer's next message on its channel."""
        if self.status in OPEN_STATUSES:
            return FAR_FUTURE
        return max(
            s.at for s in self.steps if s.kind == "status" and s.status in ("resolved", "closed")
        )


def plan_tickets(
    rng: random.Random,
    now: datetime,
    content: Content,
    customers: list[CustomerProfile],
    *,
    count: int = TICKETS,
) -> list[TicketPlan]:
    """``count`` tickets in order of their first message; every visitor writes at least once."""
    starts = sorted(_start_time(rng, now) for _ in range(count))
    visitors = [c for c in customers if not c.preexisting]
    first_contacts = dict(
        zip(sorted(rng.sample(range(count), len(visitors))), visitors, strict=True)
    )
    planner = _Planner(rng, now, content, [c for c in customers if c.preexisting], count)
    return [planner.plan(i, start, first_contacts.get(i)) for i, start in enumerate(starts)]


def _start_time(rng: random.Random, now: datetime) -> datetime:
    """A moment in the window, mostly in the daytime in China (UTC+8), never in the last 10 minutes."""
    roll = rng.random()
    if roll < TODAY_SHARE:
        days = rng.uniform(0, 1)
    elif roll < TODAY_SHARE + RECENT_SHARE:
        days = rng.uniform(0, RECENT_DAYS)
    else:
        days = rng.uniform(0, WINDOW_DAYS)
    local_day = (now + CHINA_OFFSET - timedelta(days=days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    hour = rng.uniform(8, 23) if rng.random() < DAYTIME_SHARE else rng.uniform(0, 24)
    start = local_day + timedelta(hours=hour) - CHINA_OFFSET
    latest = now - timedelta(minutes=10)
    return start if start <= latest else start - timedelta(days=1)


class _Planner:
    """Chooses scenario, customer and channel for each ticket, keeping channels free.

    Every scenario appears at least once (spread over the window), so the demo shows all
    kinds of cases whatever the weights; the rest are drawn by weight.
    """

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        content: Content,
        customers: list[CustomerProfile],
        count: int,
    ):
        self.rng = rng
        self.now = now
        self.content = content
        self.customers = list(customers)
        self.count = count
        self.unseen = rng.sample(list(content.scenarios), len(content.scenarios))
        self.busy: dict[tuple[str, str], datetime] = {}

    def plan(self, number: int, start: datetime, visitor: CustomerProfile | None) -> TicketPlan:
        pool = [visitor] if visitor else self.customers
        for scenario in self._candidates(number):
            options = self._options(scenario, start, pool)
            if options:
                break
        else:  # pragma: no cover - the data always has a scenario for every channel
            raise RuntimeError("no scenario fits the demo customers")
        if scenario in self.unseen:
            self.unseen.remove(scenario)
        customer, channel = self.rng.choices(
            [o[:2] for o in options], weights=[o[2] for o in options]
        )[0]
        ticket_rng = random.Random(self.rng.getrandbits(64))  # noqa: S311 - demo content
        status = choose_status(ticket_rng, self.now - start, scenario)
        plan = build_ticket(
            ticket_rng, number, scenario, customer, channel, start, status, self.now, self.content
        )
        self.busy[(customer.key, channel)] = plan.busy_until
        if visitor:
            self.customers.append(visitor)  # a visitor who wrote once may write again
        return plan

    def _candidates(self, number: int) -> Iterator[Scenario]:
        """Scenarios to try in order: an unseen one now and then, else weighted draws."""
        remaining = self.count - number
        if self.unseen and self.rng.random() < len(self.unseen) / remaining:
            yield from list(self.unseen)
        scenarios = self.content.scenarios
        weights = [s.weight for s in scenarios]
        for _ in range(200):
            yield self.rng.choices(scenarios, weights=weights)[0]

    def _options(
        self, scenario: Scenario, start: datetime, pool: list[CustomerProfile]
    ) -> list[tuple[CustomerProfile, str, float]]:
        options: list[tuple[CustomerProfile, str, float]] = []
        for customer in pool:
            weight = _script_weight(scenario, customer)
            channels = [
                c for c in customer.channels if scenario.channels is None or c in scenario.channels
            ]
            free = [c for c in channels if self.busy.get((customer.key, c), start) <= start]
            options.extend(
                (customer, c, weight * customer.weight / len(channels)) for c in free if weight
            )
        return options


def _script_weight(scenario: Scenario, customer: CustomerProfile) -> float:
    """Traditional-character scenarios need a customer from Hong Kong or Taiwan."""
    if scenario.script == "hant":
        return 1.0 if customer.writes_traditional else 0.0
    return 0.3 if customer.writes_traditional else 1.0


def choose_status(
    rng: random.Random,
    age: timedelta,
    scenario: Scenario,
    by_age: list[tuple[float, dict[str, int]]] = STATUS_BY_AGE,
) -> str:
    """Older cases are done; recent ones are still in the queue, waiting or being worked on.
    ``by_age``: (maximum age in days, weights of the statuses at that age), youngest first."""
    days = age.total_seconds() / 86400
    weights = next(w for limit, w in by_age if days < limit)
    allowed = set(scenario.statuses or weights)
    candidates = {s: w for s, w in weights.items() if s in allowed} or {
        s: 1 for s in sorted(allowed)
    }
    status = rng.choices(list(candidates), weights=list(candidates.values()))[0]
    if status == "new" and scenario.labels.priority == "P1" and days > 1 / 24:
        return "open"  # nobody leaves a crisis untouched for more than an hour
    return status


# --- one ticket ----------------------------------------------------------------------------


def build_ticket(
    rng: random.Random,
    number: int,
    scenario: Scenario,
    customer: CustomerProfile,
    channel: str,
    start: datetime,
    status: str,
    now: datetime,
    content: Content,
) -> TicketPlan:
    group = _group(rng, scenario, status)
    handler = _assignee(rng, scenario, group, status)
    slots = ticket_slots(rng, scenario, customer, handler, content.catalog, start)
    plan = TicketPlan(
        number=number,
        scenario=scenario,
        customer=customer,
        channel=channel,
        status=status,
        group=group,
        assignee=handler.email if handler else None,
        subject=render(rng.choice(scenario.subjects), slots)
        if channel == "email" and scenario.subjects
        else None,
        tags=list(scenario.tags) + (["VIP"] if "VIP" in customer.tags else []),
    )
    turns = played_turns(rng, scenario, status)
    plan.steps = _conversation(rng, plan, turns, slots, start, content.catalog)
    _add_closing(rng, plan)
    _add_routing(rng, plan)
    _fit_before(rng, plan, now)
    return plan


def _group(rng: random.Random, scenario: Scenario, status: str) -> str | None:
    """A new case may still sit in the shared intake queue; a worked one belongs to a group."""
    if status == "new" and (scenario.group is None or rng.random() < 0.5):
        return None
    return scenario.group or PRESALE


def _assignee(
    rng: random.Random, scenario: Scenario, group: str | None, status: str
) -> Member | None:
    if group is None or (status == "new" and rng.random() < 0.7):
        return None
    return rng.choice(handlers_of(group, scenario.assignee_role))


def ticket_slots(
    rng: random.Random,
    scenario: Scenario,
    customer: CustomerProfile,
    handler: Member | None,
    catalog: Catalog,
    start: datetime,
) -> dict[str, str]:
    """The facts of one case (product, order, courier, …), the same in every message."""
    product = _product(rng, scenario, catalog)
    ordered = start - timedelta(days=rng.randint(2, 12))
    phone = (
        customer.phone or rng.choice(["138", "139", "186", "177"]) + f"{rng.randrange(10**8):08d}"
    )
    return {
        "hi": "" if customer.writes_traditional else rng.choice(catalog.customer_openers),
        "call": customer.call,
        "agent": handler.name if handler else "客服",
        "product": product.name,
        "price": str(product.price),
        "diff": str(max(5, round(product.price * rng.uniform(0.08, 0.2)))),
        # the last two digits name the product: the demo shop's order lookup reads them
        # (demo/orders.py), so the order it shows is the one the conversation is about
        "order": f"SL{ordered.year}{rng.randrange(10**4):04d}{catalog.products.index(product):02d}",
        "days": str(rng.randint(3, 9)),
        "courier": rng.choice(catalog.couriers),
        "city": customer.city,
        "hub": rng.choice(catalog.hubs),
        "masked_phone": f"{phone[:3]}****{phone[-4:]}",
        "phone_tail": phone[-4:],
        "coupon": rng.choice(catalog.coupons),
        "color": rng.choice(catalog.colors),
        "size": rng.choice(catalog.sizes),
        "height": str(rng.randint(150, 188)),
        "weight": str(rng.randint(85, 170)),
        "weekday": rng.choice(catalog.weekdays),
    }


def _product(rng: random.Random, scenario: Scenario, catalog: Catalog) -> Product:
    if scenario.product_names:
        return catalog.product_named(rng.choice(scenario.product_names))
    return rng.choice(catalog.products_of(scenario.product_kinds))


def played_turns(rng: random.Random, scenario: Scenario, status: str) -> list[Turn]:
    """How far the conversation has got, given how the ticket ends (or where it stands now)."""
    turns = list(scenario.turns)
    first_reply = next((i for i, t in enumerate(turns) if t.kind == "agent"), None)
    if status in ("resolved", "closed") or first_reply is None:
        return turns
    if status == "new":
        return _leading(turns, "customer")
    played = turns[: first_reply + 1]
    rest = turns[first_reply + 1 :]
    notes = _leading(rest, "note")
    played += notes
    if status == "open" and rng.random() < 0.5:
        # The customer has written back: it is the agent's turn now.
        played += _leading(rest[len(notes) :], "customer")
    return played


def _leading(turns: list[Turn], kind: str) -> list[Turn]:
    leading = []
    for turn in turns:
        if turn.kind != kind:
            break
        leading.append(turn)
    return leading


def _conversation(
    rng: random.Random,
    plan: TicketPlan,
    turns: list[Turn],
    slots: dict[str, str],
    start: datetime,
    catalog: Catalog,
) -> list[Step]:
    thread = rng.randrange(THREADS)
    steps: list[Step] = []
    at = start
    previous: Turn | None = None
    replied = False
    for turn in turns:
        if previous is not None:
            at += _gap(rng, previous.kind, turn.kind, plan.scenario.labels.priority, replied)
        steps.append(
            _turn_step(rng, plan, turn, thread, slots, at, catalog, first_reply=not replied)
        )
        replied = replied or turn.kind == "agent"
        previous = turn
    if plan.status == "pending":
        steps.append(
            Step("status", at + _minutes(rng, 1, 10), actor=plan.assignee, status="pending")
        )
    return steps


def _turn_step(
    rng: random.Random,
    plan: TicketPlan,
    turn: Turn,
    thread: int,
    slots: dict[str, str],
    at: datetime,
    catalog: Catalog,
    *,
    first_reply: bool,
) -> Step:
    if turn.kind == "status":
        return Step("status", at, actor=plan.assignee, status=turn.status)
    template = turn.variants[thread % len(turn.variants)]
    text = render(template, slots)
    if turn.kind == "customer":
        return Step("inbound", at, text=spoken(text) if plan.channel == "phone" else text)
    if turn.kind == "agent" and first_reply and not text.startswith("您好"):
        text = _greeting(rng, template, slots, catalog) + text
    actor = supervisor().email if turn.by_supervisor else plan.assignee
    return Step("reply" if turn.kind == "agent" else "note", at, actor=actor, text=text)


def spoken(text: str) -> str:
    """A phone call is transcribed speech: no emoji, no pictures."""
    return re.sub(r"\s{2,}", " ", NOT_SPOKEN.sub("", text)).strip() or text


def _greeting(rng: random.Random, template: str, slots: dict[str, str], catalog: Catalog) -> str:
    """Every first reply greets (开场问候); one that introduces the agent gets a short greeting."""
    if "{agent}" in template or template.startswith("{call}"):
        return rng.choice(catalog.agent_short_greetings)
    return render(rng.choice(catalog.agent_greetings), slots)


def _gap(
    rng: random.Random, previous: str, current: str, priority: str, replied: bool
) -> timedelta:
    if current == "customer":
        if previous == "customer":
            return _minutes(rng, 0.3, 4)  # a second message right after the first
        if previous == "status":
            return _minutes(rng, 600, 2880)  # back after the case was closed
        return _minutes(rng, 3, 360)
    if current == "agent" and not replied:
        return _minutes(rng, *FIRST_REPLY_MINUTES[priority])
    if current == "agent":
        return _minutes(rng, 2, 120)
    if current == "note":
        return _minutes(rng, 3, 90)
    return _minutes(rng, 5, 240)


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _add_closing(rng: random.Random, plan: TicketPlan) -> None:
    """Resolve a finished case; a closed one is closed by its agent or, after 72 hours, by kefu."""
    if plan.status not in ("resolved", "closed"):
        return
    last = plan.steps[-1]
    at = last.at
    if not (last.kind == "status" and last.status == "resolved"):
        at += _minutes(rng, 5, 600)
        plan.steps.append(Step("status", at, actor=plan.assignee, status="resolved"))
    if plan.status == "closed":
        if rng.random() < 0.7:
            plan.steps.append(
                Step("status", at + AUTO_CLOSE + _minutes(rng, 0, 90), status="closed")
            )
        else:
            plan.steps.append(
                Step("status", at + _minutes(rng, 60, 2880), actor=plan.assignee, status="closed")
            )


def _add_routing(rng: random.Random, plan: TicketPlan) -> None:
    """Triage labels the case a minute after it arrives; then an agent claims it or is assigned."""
    start = plan.steps[0].at
    triage_at = start + _minutes(rng, 0.2, 1)
    plan.steps.append(Step("triage", triage_at))
    if plan.assignee:
        first_reply = next((s.at for s in plan.steps if s.kind in ("reply", "note")), None)
        if first_reply is not None:
            assign_at = triage_at + (first_reply - triage_at) * rng.uniform(0.2, 0.9)
        else:
            assign_at = triage_at + _minutes(rng, 1, 90)
        plan.steps.append(_assignment(rng, plan, assign_at))
    plan.steps.sort(key=lambda s: s.at)


def _assignment(rng: random.Random, plan: TicketPlan, at: datetime) -> Step:
    """Crises are handed out by the supervisor; everyday cases are often claimed from the queue."""
    assert plan.assignee is not None
    crisis = plan.scenario.labels.priority == "P1"
    if plan.assignee == supervisor().email or (not crisis and rng.random() < 0.55):
        return Step("claim", at, actor=plan.assignee)
    return Step("assign", at, actor=supervisor().email)


def _fit_before(rng: random.Random, plan: TicketPlan, now: datetime) -> None:
    """Keep every step in the past: drop a close that has not happened yet, squeeze the rest.

    A squeezed conversation ends a random while before now, not all at the same minute.
    """
    latest = now - timedelta(minutes=1)
    last = plan.steps[-1]
    if last.kind == "status" and last.status == "closed" and last.at > latest:
        plan.steps.pop()
        plan.status = "resolved"
    end = plan.steps[-1].at
    if end <= latest:
        return
    start = plan.steps[0].at
    factor = (now - start) * rng.uniform(0.6, 0.98) / (end - start)
    plan.steps = [
        Step(s.kind, start + (s.at - start) * factor, s.actor, s.text, s.status) for s in plan.steps
    ]
