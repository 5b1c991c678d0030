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


# evaluate: every clock of a case from its facts

EMAIL_P3 = sla.default_budgets(Channel.EMAIL, Priority.P3)  # first response 24 h, next 24 h, resolution 72 h


def test_a_new_case_has_a_first_response_and_a_resolution_clock():
    opened = local("2026-09-29 10:00")
    result = sla.evaluate(sla.SlaFacts(created_at=opened), EMAIL_P3, CHINA, opened)
    first, resolution = result.clocks
    assert (first.target, first.due_at, first.state) == (Target.FIRST_RESPONSE, local("2026-10-08 16:00"), SlaState.ON_TRACK)
    assert resolution.due_at == local("2026-10-15 10:00")  # 72 working hours: National Day off, Sat 10th worked
    assert result.due == () and result.next_check_at == first.warn_at


def test_due_events_and_their_keys_once_the_moment_has_come():
    opened = local("2026-09-29 09:00")
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    result = sla.evaluate(sla.SlaFacts(created_at=opened), chat, ALWAYS_OPEN, opened + timedelta(seconds=31))
    assert [(e.target, e.kind) for e in result.due] == [(Target.FIRST_RESPONSE, "warn"), (Target.FIRST_RESPONSE, "breach")]
    assert result.due[1].key == f"first_response:breach:{opened.isoformat()}"
    assert result.clocks[0].state == SlaState.BREACHED


def test_answering_stops_the_first_clock_and_a_new_customer_message_starts_the_next():
    opened = local("2026-09-29 09:00")
    facts = sla.SlaFacts(created_at=opened, first_response_at=local("2026-09-29 09:20"),
                         awaiting_reply_since=local("2026-09-29 11:00"))
    result = sla.evaluate(facts, EMAIL_P3, CHINA, local("2026-09-29 12:00"))
    by_target = {c.target: c for c in result.clocks}
    assert by_target[Target.FIRST_RESPONSE].state == SlaState.MET
    assert by_target[Target.NEXT_RESPONSE].due_at == local("2026-09-30 17:00") + timedelta(days=8)  # over National Day
    # An answer that came after the deadline still leaves its breach to record.
    late = sla.SlaFacts(created_at=opened, first_response_at=opened + timedelta(minutes=5))
    chat = sla.default_budgets(Channel.WEBCHAT, Priority.P4)
    missed = sla.evaluate(late, chat, ALWAYS_OPEN, opened + timedelta(hours=1))
    assert missed.clocks[0].state == SlaState.MISSED and {e.kind for e in missed.due} == {"warn", "breach"}


def test_pending_and_resolved_time_is_not_counted_and_an_open_pause_freezes_the_clock():
    opened = local("2026-09-29 09:00")
    budgets = sla.Budgets(None, None, 4 * H)
    waiting = sla.SlaFacts(created_at=opened, pauses=((local("2026-09-29 10:00"), None),))
    frozen = sla.evaluate(waiting, budgets, CHINA, local("2026-09-30 17:00"))
    assert frozen.clocks[0].state == SlaState.PAUSED and frozen.clocks[0].left == 3 * H
    assert frozen.due == () and frozen.next_check_at is None
    resumed = sla.SlaFacts(created_at=opened, pauses=((local("2026-09-29 10:00"), local("2026-09-30 11:00")),))
    assert sla.evaluate(resumed, budgets, CHINA, local("2026-09-30 11:00")).clocks[0].due_at == local("2026-09-30 14:00")


def test_a_reopened_case_counts_only_its_open_time():
    opened = local("2026-09-29 09:00")
    facts = sla.SlaFacts(created_at=opened, pauses=((local("2026-09-29 10:00"), local("2026-09-29 15:00")),))
    result = sla.evaluate(facts, sla.Budgets(None, None, 2 * H), CHINA, local("2026-09-29 15:00"))
    assert result.clocks[0].due_at == local("2026-09-29 16:00")


@settings(max_examples=300, deadline=None)
@given(start_moments, st.timedeltas(min_value=H, max_value=timedelta(days=6)), gaps)
def test_evaluate_agrees_with_pausing_a_running_clock(start, budget, steps):
    """The deadline from the facts equals the one a clock paused and resumed step by step reaches."""
    clock = sla.start(Target.RESOLUTION, start, budget, CHINA)
    pauses: list[tuple[datetime, datetime | None]] = []
    now = start
    for i, gap in enumerate(steps):
        now += gap
        if i % 2 == 0:
            clock = sla.pause(clock, now)
            pauses.append((now, None))
        else:
            clock = sla.resume(clock, now, CHINA)
            pauses[-1] = (pauses[-1][0], now)
    due, _ = sla.deadline(start, budget, tuple(pauses), CHINA)
    if pauses and pauses[-1][1] is None and clock.due_at > pauses[-1][0]:
        assert due is None
    else:
        assert due == clock.due_at


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
