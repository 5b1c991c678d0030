"""SLA clocks: deadlines in business time, pauses that never count, states and time left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain import sla
from kefu.domain.business_calendar import ALWAYS_OPEN, BusinessCalendar, china_mainland
from kefu.domain.sla import Pause, SlaState, Target
from kefu.domain.tickets import Channel, Priority, TicketStatus
from tests.domain.test_business_calendar import local

CHINA = china_mainland()
H = timedelta(hours=1)


def resolution_clock(
    opened: datetime,
    budget: timedelta,
    now: datetime,
    pauses: tuple[Pause, ...] = (),
    calendar: BusinessCalendar = CHINA,
) -> sla.ClockView:
    """The only clock of a case whose sole target is resolution within ``budget``."""
    facts = sla.SlaFacts(created_at=opened, pauses=pauses)
    (clock,) = sla.evaluate(facts, sla.Budgets(None, None, budget), calendar, now).clocks
    return clock


def counted(start: datetime, end: datetime, pauses: tuple[Pause, ...]) -> timedelta:
    """Working time from ``start`` to ``end`` outside the pauses, computed straight from the calendar."""
    paused = sum(
        (
            CHINA.between(max(p_start, start), min(p_end or end, end))
            for p_start, p_end in pauses
            if p_start < end and (p_end is None or p_end > start)
        ),
        timedelta(0),
    )
    return CHINA.between(start, end) - paused


def test_defaults_follow_the_references():
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    assert chat.first_response == timedelta(seconds=30)
    assert sla.default_budgets(Channel.SOCIAL, Priority.P3).first_response == H
    assert sla.default_budgets(Channel.EMAIL, Priority.P4).first_response == 24 * H
    assert [sla.default_budgets(Channel.EMAIL, p).resolution for p in Priority] == [
        2 * H,
        24 * H,
        72 * H,
        120 * H,
    ]
    # A crisis by email is not left for a day.
    assert sla.default_budgets(Channel.EMAIL, Priority.P1).first_response == timedelta(minutes=15)


def test_a_clock_warns_at_80_percent_and_is_due_at_the_budget():
    opened = local("2026-09-29 09:00")
    clock = resolution_clock(opened, 5 * H, local("2026-09-29 12:59"))
    assert clock.warn_at == local("2026-09-29 13:00") and clock.due_at == local("2026-09-29 14:00")
    assert (clock.state, clock.left) == (SlaState.ON_TRACK, timedelta(hours=1, minutes=1))
    assert resolution_clock(opened, 5 * H, local("2026-09-29 13:30")).state == SlaState.AT_RISK
    late = resolution_clock(opened, 5 * H, local("2026-09-30 10:00"))
    assert (late.state, late.left) == (SlaState.BREACHED, -5 * H)  # 14:00-18:00 and 09:00-10:00


def test_a_deadline_over_a_holiday_is_set_in_working_time():
    due, _ = sla.deadline(local("2026-09-30 17:00"), 24 * H, (), CHINA)
    assert due == local("2026-10-10 14:00")  # through National Day to the 调休 Saturday


def test_waiting_on_the_customer_moves_the_deadline_by_the_working_time_waited():
    opened, budget = local("2026-09-29 09:00"), 4 * H
    waiting = ((local("2026-09-29 10:00"), None),)
    frozen = sla.evaluate(
        sla.SlaFacts(created_at=opened, pauses=waiting),
        sla.Budgets(None, None, budget),
        CHINA,
        local("2026-09-30 17:00"),
    )
    assert (frozen.clocks[0].state, frozen.clocks[0].left) == (SlaState.PAUSED, 3 * H)
    assert frozen.clocks[0].due_at is None and frozen.due == () and frozen.next_check_at is None
    waited = ((local("2026-09-29 10:00"), local("2026-09-30 11:00")),)
    assert CHINA.between(*waited[0]) == 10 * H  # 8 h on the 29th, 2 h on the 30th
    resumed = resolution_clock(opened, budget, local("2026-09-30 11:00"), waited)
    assert resumed.due_at == local("2026-09-30 14:00") == CHINA.add(opened, budget + 10 * H)
    assert counted(opened, resumed.due_at, waited) == budget


def test_a_breach_stays_a_breach_while_waiting():
    opened = local("2026-09-29 09:00")
    due = local("2026-09-29 10:00")
    waiting = ((local("2026-09-29 11:00"), None),)
    during = resolution_clock(opened, H, local("2026-09-29 12:00"), waiting)
    assert (during.state, during.due_at) == (SlaState.BREACHED, due)
    waited = ((local("2026-09-29 11:00"), local("2026-09-29 15:00")),)
    after = resolution_clock(opened, H, local("2026-09-29 15:00"), waited)
    assert (after.state, after.due_at) == (SlaState.BREACHED, due)


def test_stopping_meets_or_misses():
    opened = local("2026-09-29 09:00")
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)  # first response within 30 s

    def first_clock(answered: datetime, now: datetime) -> sla.ClockView:
        facts = sla.SlaFacts(created_at=opened, first_response_at=answered)
        return sla.evaluate(facts, chat, ALWAYS_OPEN, now).clocks[0]

    met = first_clock(opened + timedelta(seconds=12), local("2026-10-05 00:00"))
    assert (met.state, met.left, met.stopped_at) == (
        SlaState.MET,
        timedelta(seconds=18),
        opened + timedelta(seconds=12),
    )
    assert (
        first_clock(opened + timedelta(minutes=1), local("2026-10-05 00:00")).state
        == SlaState.MISSED
    )
    # A stopped clock stays stopped: later evaluations see the same clock.
    assert first_clock(opened + timedelta(seconds=12), local("2026-12-31 00:00")) == met


start_moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
)
gaps = st.lists(
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=4)),
    min_size=0,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(start_moments, st.timedeltas(min_value=H, max_value=timedelta(days=6)), gaps)
def test_waiting_never_counts_against_the_target(start, budget, steps):
    """Put the case on hold and back at random moments: the deadline is the first moment the
    working time outside the pauses reaches the budget (and the warning, 80 % of it); a pause
    still open before that freezes the clock with what is left."""
    pauses: tuple[Pause, ...] = ()
    status, now = TicketStatus.OPEN, start
    for gap in steps:
        now += gap
        new = TicketStatus.PENDING if status == TicketStatus.OPEN else TicketStatus.OPEN
        pauses, status = sla.pauses_after(pauses, status, new, now), new
    clock = resolution_clock(start, budget, now, pauses)
    on_hold_since = pauses[-1][0] if pauses and pauses[-1][1] is None else None
    if on_hold_since is not None and counted(start, on_hold_since, pauses) < budget:
        assert clock.due_at is None and clock.state == SlaState.PAUSED
        assert clock.left == budget - counted(start, on_hold_since, pauses)
    else:
        assert clock.due_at is not None
        assert counted(start, clock.due_at, pauses) == budget
        assert counted(start, clock.due_at - timedelta(microseconds=1), pauses) < budget
        before = resolution_clock(start, budget, clock.due_at - timedelta(microseconds=1), pauses)
        assert before.state in (SlaState.ON_TRACK, SlaState.AT_RISK)
        assert resolution_clock(start, budget, clock.due_at, pauses).state == SlaState.BREACHED
    if clock.warn_at is not None:
        assert counted(start, clock.warn_at, pauses) == budget * sla.WARN_SHARE


# evaluate: every clock of a case from its facts

EMAIL_P3 = sla.default_budgets(
    Channel.EMAIL, Priority.P3
)  # first response 24 h, next 24 h, resolution 72 h


def test_a_new_case_has_a_first_response_and_a_resolution_clock():
    opened = local("2026-09-29 10:00")
    result = sla.evaluate(sla.SlaFacts(created_at=opened), EMAIL_P3, CHINA, opened)
    first, resolution = result.clocks
    assert (first.target, first.due_at, first.state) == (
        Target.FIRST_RESPONSE,
        local("2026-10-08 16:00"),
        SlaState.ON_TRACK,
    )
    assert resolution.due_at == local(
        "2026-10-15 10:00"
    )  # 72 working hours: National Day off, Sat 10th worked
    assert result.due == () and result.next_check_at == first.warn_at


def test_due_events_and_their_keys_once_the_moment_has_come():
    opened = local("2026-09-29 09:00")
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    result = sla.evaluate(
        sla.SlaFacts(created_at=opened), chat, ALWAYS_OPEN, opened + timedelta(seconds=31)
    )
    assert [(e.target, e.kind) for e in result.due] == [
        (Target.FIRST_RESPONSE, "warn"),
        (Target.FIRST_RESPONSE, "breach"),
    ]
    assert result.due[1].key == f"first_response:breach:{opened.isoformat()}"
    assert result.clocks[0].state == SlaState.BREACHED


def test_answering_stops_the_first_clock_and_a_new_customer_message_starts_the_next():
    opened = local("2026-09-29 09:00")
    facts = sla.SlaFacts(
        created_at=opened,
        first_response_at=local("2026-09-29 09:20"),
        awaiting_reply_since=local("2026-09-29 11:00"),
    )
    result = sla.evaluate(facts, EMAIL_P3, CHINA, local("2026-09-29 12:00"))
    by_target = {c.target: c for c in result.clocks}
    assert by_target[Target.FIRST_RESPONSE].state == SlaState.MET
    assert by_target[Target.NEXT_RESPONSE].due_at == local("2026-09-30 17:00") + timedelta(
        days=8
    )  # over National Day
    # An answer that came after the deadline still leaves its breach to record.
    late = sla.SlaFacts(created_at=opened, first_response_at=opened + timedelta(minutes=5))
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    missed = sla.evaluate(late, chat, ALWAYS_OPEN, opened + timedelta(hours=1))
    assert missed.clocks[0].state == SlaState.MISSED and {e.kind for e in missed.due} == {
        "warn",
        "breach",
    }


def test_a_reopened_case_counts_only_its_open_time():
    opened = local("2026-09-29 09:00")
    facts = sla.SlaFacts(
        created_at=opened, pauses=((local("2026-09-29 10:00"), local("2026-09-29 15:00")),)
    )
    result = sla.evaluate(facts, sla.Budgets(None, None, 2 * H), CHINA, local("2026-09-29 15:00"))
    assert result.clocks[0].due_at == local("2026-09-29 16:00")


def test_status_changes_open_and_close_pauses():
    from kefu.domain.tickets import TicketStatus as S

    t1, t2, t3 = local("2026-09-29 10:00"), local("2026-09-29 11:00"), local("2026-09-29 12:00")
    pauses = sla.pauses_after((), S.OPEN, S.PENDING, t1)
    assert pauses == ((t1, None),)
    assert sla.pauses_after(pauses, S.PENDING, S.RESOLVED, t2) == pauses  # still not counted
    closed = sla.pauses_after(pauses, S.RESOLVED, S.OPEN, t3)
    assert closed == ((t1, t3),)
    assert sla.pauses_after(closed, S.NEW, S.OPEN, t3) == closed


def test_a_breach_raises_priority_one_step():
    assert [sla.raised(p) for p in Priority] == [Priority.P1, Priority.P1, Priority.P2, Priority.P3]
