"""Service-level targets and their clocks: pure arithmetic over a business calendar.

A policy gives, per channel and priority, the time allowed for the first response, each next
response and the resolution. A case's clocks are derived from its facts (``evaluate``): each
knows when it started, when it warns (80 % of the budget used), when it is due, and whether it
is paused. Waiting on the customer or on a third party, and resolved time, are pauses
(``pauses_after``); ``deadline`` moves the warning and the deadline by exactly the working time
a pause took, so waiting never counts against the target.

Defaults follow the reference documents: live chat answered within 30 seconds, social media
within an hour, email within 24 hours; complaints resolved within 2 hours (P1), 24 hours (P2),
72 hours (P3) and 5 days (P4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kefu.domain.business_calendar import BusinessCalendar
from kefu.domain.tickets import Channel, Priority, TicketStatus

WARN_SHARE = 0.8  # a clock is at risk once this share of its budget is used


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # past the warning point
    BREACHED = "breached"
    PAUSED = "paused"  # waiting on the customer or a third party
    MET = "met"  # stopped before it was due
    MISSED = "missed"  # stopped after it was due


@dataclass(frozen=True)
class Budgets:
    """The time allowed for each target; None: no such target."""

    first_response: timedelta | None
    next_response: timedelta | None
    resolution: timedelta | None

    def of(self, target: Target) -> timedelta | None:
        return getattr(self, target.value)  # type: ignore[no-any-return]


H = timedelta(hours=1)
RESOLUTION = {Priority.P1: 2 * H, Priority.P2: 24 * H, Priority.P3: 72 * H, Priority.P4: 5 * 24 * H}
FIRST_RESPONSE = {
    Channel.WEBCHAT: timedelta(seconds=30),
    Channel.WECHAT: timedelta(minutes=1),
    Channel.PHONE: timedelta(seconds=30),
    Channel.SOCIAL: H,
    Channel.APP_REVIEW: 24 * H,
    Channel.EMAIL: 24 * H,
    Channel.SMS: 4 * H,
    Channel.API: 4 * H,
    Channel.WEB: 4 * H,
}
NEXT_RESPONSE = {
    Channel.WEBCHAT: timedelta(minutes=2),
    Channel.WECHAT: timedelta(minutes=5),
    Channel.PHONE: timedelta(minutes=2),
    Channel.SOCIAL: 2 * H,
    Channel.APP_REVIEW: 24 * H,
    Channel.EMAIL: 24 * H,
    Channel.SMS: 8 * H,
    Channel.API: 8 * H,
    Channel.WEB: 8 * H,
}
# A crisis is answered faster than the channel's norm, never slower.
FIRST_RESPONSE_CAP = {Priority.P1: timedelta(minutes=15), Priority.P2: H}


def default_budgets(channel: Channel, priority: Priority) -> Budgets:
    first = FIRST_RESPONSE[channel]
    cap = FIRST_RESPONSE_CAP.get(priority)
    return Budgets(
        first_response=min(first, cap) if cap else first,
        next_response=NEXT_RESPONSE[channel],
        resolution=RESOLUTION[priority],
    )


# Evaluating a case's clocks from its facts --------------------------------------------------
#
# The service keeps a few facts on the ticket (when it was opened, first answered, since when a
# customer has been waiting for a reply, when it was resolved, and the intervals it spent
# pending or resolved) and ``evaluate`` derives every clock from them, from scratch. The same
# facts always give the same deadlines, so a sweep may run twice, after a restart, or in two
# processes at once and agree; which warnings and breaches have fired is kept apart, keyed by
# ``Event.key``.

Pause = tuple[datetime, datetime | None]  # [start, end); end None: paused now


@dataclass(frozen=True)
class SlaFacts:
    created_at: datetime
    first_response_at: datetime | None = None
    awaiting_reply_since: datetime | None = None  # the oldest customer message not yet answered
    resolved_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class ClockView:
    target: Target
    started_at: datetime
    warn_at: datetime | None  # None while paused with the moment not reached
    due_at: datetime | None
    stopped_at: datetime | None
    state: SlaState
    left: timedelta  # working time left (negative once breached)


@dataclass(frozen=True)
class Event:
    target: Target
    kind: str  # "warn" or "breach"; "met": the clock stopped in time (recorded for reports)
    at: datetime
    started_at: datetime  # which run of the clock (next response runs once per waiting customer)
    # The clock has stopped since (answered late, resolved late): on record for reports, but
    # there is nothing left to escalate.
    after_stop: bool = False

    @property
    def key(self) -> str:
        return f"{self.target.value}:{self.kind}:{self.started_at.isoformat()}"


@dataclass(frozen=True)
class Evaluation:
    clocks: tuple[ClockView, ...]
    due: tuple[Event, ...]  # warnings and breaches whose moment has come (fired or not)
    next_check_at: datetime | None  # the next moment something may become due


def deadline(
    start: datetime,
    budget: timedelta,
    pauses: tuple[Pause, ...],
    calendar: BusinessCalendar,
) -> tuple[datetime | None, timedelta]:
    """When ``budget`` of working time after ``start`` runs out, not counting the pauses; None
    (and the budget left) while an open pause froze the clock before it ran out."""
    cursor, left = start, budget
    for pause_start, pause_end in sorted(pauses, key=lambda p: p[0]):
        if pause_end is not None and pause_end <= cursor:
            continue
        pause_start = max(pause_start, cursor)
        due = calendar.add(cursor, left)
        if due <= pause_start:
            return due, timedelta(0)
        left -= calendar.between(cursor, pause_start)
        if pause_end is None:
            return None, left
        cursor = pause_end
    return calendar.add(cursor, left), timedelta(0)


def evaluate(
    facts: SlaFacts, budgets: Budgets, calendar: BusinessCalendar, now: datetime
) -> Evaluation:
    runs: list[tuple[Target, datetime, timedelta, datetime | None]] = []
    resolved = facts.resolved_at
    if budgets.first_response is not None:
        stop_at = min(
            (t for t in (facts.first_response_at, resolved) if t is not None), default=None
        )
        runs.append((Target.FIRST_RESPONSE, facts.created_at, budgets.first_response, stop_at))
    if (
        budgets.next_response is not None
        and facts.first_response_at is not None
        and facts.awaiting_reply_since is not None
        and resolved is None
    ):
        runs.append((Target.NEXT_RESPONSE, facts.awaiting_reply_since, budgets.next_response, None))
    if budgets.resolution is not None:
        runs.append((Target.RESOLUTION, facts.created_at, budgets.resolution, resolved))
    clocks, due, upcoming = [], [], []
    for target, started, budget, stopped in runs:
        due_at, frozen_left = deadline(started, budget, facts.pauses, calendar)
        warn_at, _ = deadline(started, budget * WARN_SHARE, facts.pauses, calendar)
        end = min(now, stopped) if stopped is not None else now
        for kind, moment in (("warn", warn_at), ("breach", due_at)):
            if moment is None:
                continue
            if moment <= end:
                due.append(Event(target, kind, moment, started, after_stop=stopped is not None))
            elif stopped is None:
                upcoming.append(moment)
        clocks.append(_view(target, started, warn_at, due_at, stopped, frozen_left, calendar, now))
    return Evaluation(tuple(clocks), tuple(due), min(upcoming, default=None))


def _view(
    target: Target,
    started: datetime,
    warn_at: datetime | None,
    due_at: datetime | None,
    stopped: datetime | None,
    frozen_left: timedelta,
    calendar: BusinessCalendar,
    now: datetime,
) -> ClockView:
    if stopped is not None:
        met = due_at is None or stopped <= due_at
        left = calendar.between(stopped, due_at) if due_at is not None else frozen_left
        return ClockView(
            target,
            started,
            warn_at,
            due_at,
            stopped,
            SlaState.MET if met else SlaState.MISSED,
            left,
        )
    if due_at is None:
        return ClockView(target, started, warn_at, None, None, SlaState.PAUSED, frozen_left)
    left = calendar.between(now, due_at)
    if now >= due_at:
        state = SlaState.BREACHED
    elif warn_at is not None and now >= warn_at:
        state = SlaState.AT_RISK
    else:
        state = SlaState.ON_TRACK
    return ClockView(target, started, warn_at, due_at, None, state, left)


PAUSED_STATUSES = frozenset({TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED})


def pauses_after(
    pauses: tuple[Pause, ...], old: TicketStatus, new: TicketStatus, at: datetime
) -> tuple[Pause, ...]:
    """The pause intervals once a case moves from ``old`` to ``new`` at ``at``: waiting (pending)
    and resolved time is not counted; coming back to work ends the open interval."""
    paused_before, paused_now = old in PAUSED_STATUSES, new in PAUSED_STATUSES
    if paused_now and not paused_before:
        return (*pauses, (at, None))
    if paused_before and not paused_now and pauses and pauses[-1][1] is None:
        return (*pauses[:-1], (pauses[-1][0], max(at, pauses[-1][0])))
    return pauses


def raised(priority: Priority) -> Priority:
    """One step more urgent (an SLA breach escalates); P1 stays P1."""
    order = list(Priority)
    return order[max(0, order.index(priority) - 1)]
