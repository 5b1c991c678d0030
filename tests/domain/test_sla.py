"""SLA clocks: deadlines in business time, pauses that never count, states and time left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain import sla
from kefu.domain.business_calendar import ALWAYS_OPEN, china_mainland
from kefu.domain.sla import SlaState, Target
from kefu.domain.tickets import Channel, Priority
from tests.domain.test_business_calendar import local

CHINA = china_mainland()
H = timedelta(hours=1)


def test_defaults_follow_the_references():
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    assert chat.first_response == timedelta(seconds=30)
    assert sla.default_budgets(Channel.SOCIAL, Priority.P3).first_response == H
    assert sla.default_budgets(Channel.EMAIL, Priority.P4).first_response == 24 * H
    assert [sla.default_budgets(Channel.EMAIL, p).resolution for p in Priority] == [2 * H, 24 * H, 72 * H, 120 * H]
    # A crisis by email is not left for a day.
    assert sla.default_budgets(Channel.EMAIL, Priority.P1).first_response == timedelta(minutes=15)


def test_a_clock_warns_at_80_percent_and_is_due_at_the_budget():
    clock = sla.start(Target.RESOLUTION, local("2026-09-29 09:00"), 5 * H, CHINA)
    assert clock.warn_at == local("2026-09-29 13:00") and clock.due_at == local("2026-09-29 14:00")
    assert sla.state(clock, local("2026-09-29 12:59"), CHINA) == (SlaState.ON_TRACK, timedelta(hours=1, minutes=1))
    assert sla.state(clock, local("2026-09-29 13:30"), CHINA)[0] == SlaState.AT_RISK
    state, left = sla.state(clock, local("2026-09-30 10:00"), CHINA)
    assert state == SlaState.BREACHED and left == -5 * H  # 14:00-18:00 and 09:00-10:00


def test_a_deadline_over_a_holiday_is_set_in_working_time():
    clock = sla.start(Target.RESOLUTION, local("2026-09-30 17:00"), 24 * H, CHINA)
    assert clock.due_at == local("2026-10-10 14:00")  # through National Day to the 调休 Saturday


def test_waiting_on_the_customer_moves_the_deadline_by_the_working_time_waited():
    clock = sla.start(Target.RESOLUTION, local("2026-09-29 09:00"), 4 * H, CHINA)
    paused = sla.pause(clock, local("2026-09-29 10:00"))
    assert sla.state(paused, local("2026-09-30 17:00"), CHINA) == (SlaState.PAUSED, 3 * H)
    resumed = sla.resume(paused, local("2026-09-30 11:00"), CHINA)  # 8 h + 2 h of working time waited
    assert resumed.due_at == local("2026-09-30 14:00") and resumed.paused_total == 10 * H
    assert sla.used(resumed, resumed.due_at, CHINA) == 4 * H


def test_a_breach_stays_a_breach_while_waiting():
    clock = sla.start(Target.FIRST_RESPONSE, local("2026-09-29 09:00"), H, CHINA)
    paused = sla.pause(clock, local("2026-09-29 11:00"))
    assert sla.state(paused, local("2026-09-29 12:00"), CHINA) == (SlaState.BREACHED, -H)
    assert sla.resume(paused, local("2026-09-29 15:00"), CHINA).due_at == clock.due_at


def test_stopping_meets_or_misses():
    clock = sla.start(Target.FIRST_RESPONSE, local("2026-09-29 09:00"), timedelta(seconds=30), ALWAYS_OPEN)
    met = sla.stop(clock, clock.started_at + timedelta(seconds=12))
    assert sla.state(met, local("2026-10-05 00:00"), ALWAYS_OPEN) == (SlaState.MET, timedelta(seconds=18))
    missed = sla.stop(clock, clock.started_at + timedelta(minutes=1))
    assert sla.state(missed, local("2026-10-05 00:00"), ALWAYS_OPEN)[0] == SlaState.MISSED
    assert sla.stop(met, local("2026-10-05 00:00")) == met  # a stopped clock stays stopped


start_moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC))
gaps = st.lists(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=4)), min_size=0, max_size=8)


@settings(max_examples=300, deadline=None)
@given(start_moments, st.timedeltas(min_value=H, max_value=timedelta(days=6)), gaps)
def test_waiting_never_counts_against_the_target(start, budget, steps):
    """Alternate pause and resume at random moments: the working time counted between the start
    and the deadline, less the working time paused, is exactly the budget, unless the clock had
    already run out before a pause began."""
    clock = sla.start(Target.RESOLUTION, start, budget, CHINA)
    now = start
    breached_before_a_pause = False
    for i, gap in enumerate(steps):
        now += gap
        if i % 2 == 0:
            breached_before_a_pause |= clock.due_at <= now
            clock = sla.pause(clock, now)
        else:
            clock = sla.resume(clock, now, CHINA)
    clock = sla.resume(clock, now + timedelta(minutes=1), CHINA)
    if not breached_before_a_pause:
        assert CHINA.between(clock.started_at, clock.due_at) - clock.paused_total == budget
        assert sla.used(clock, clock.due_at, CHINA) == budget
    state, left = sla.state(clock, clock.due_at - timedelta(microseconds=1), CHINA)
    assert state in (SlaState.ON_TRACK, SlaState.AT_RISK) or breached_before_a_pause
    assert sla.state(clock, clock.due_at, CHINA)[0] == SlaState.BREACHED
