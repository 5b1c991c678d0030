"""Business time across working hours, weekends, official holidays and 调休 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.business_calendar import (
    ALWAYS_OPEN,
    BusinessCalendar,
    NoWorkingTime,
    china_mainland,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
CHINA = china_mainland()


def local(text: str) -> datetime:
    """A Shanghai wall-clock time as the UTC datetime the database holds."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def test_within_one_working_day():
    assert CHINA.add(local("2026-09-30 10:00"), 2 * H) == local("2026-09-30 12:00")


def test_time_outside_hours_waits_for_the_next_opening():
    assert CHINA.add(local("2026-09-29 20:00"), 30 * timedelta(seconds=1)) == local(
        "2026-09-30 09:00:30"
    )
    assert CHINA.add(local("2026-09-29 07:00"), H) == local("2026-09-29 10:00")


def test_the_budget_runs_over_the_evening_into_the_next_day():
    # Tuesday 17:00 + 3 working hours: 1 h on Tuesday, 2 h on Wednesday.
    assert CHINA.add(local("2026-09-29 17:00"), 3 * H) == local("2026-09-30 11:00")


def test_a_weekend_is_skipped():
    # Friday 2026-09-11 16:00 + 4 h: 2 h Friday, Saturday and Sunday off, 2 h Monday.
    assert CHINA.add(local("2026-09-11 16:00"), 4 * H) == local("2026-09-14 11:00")


def test_mid_autumn_friday_joins_the_weekend():
    # 2026-09-25 is 中秋节: Thursday 17:00 + 2 h runs into Monday the 28th.
    assert CHINA.add(local("2026-09-24 17:00"), 2 * H) == local("2026-09-28 10:00")


def test_national_day_is_skipped_and_the_make_up_saturday_is_worked():
    # Wednesday 30 September 17:00 + 24 working hours: 1 h on the 30th, 1-7 October are holidays,
    # then Thursday 8th and Friday 9th (9 h each), Saturday 10th is a 调休 working day (5 h left).
    assert CHINA.add(local("2026-09-30 17:00"), 24 * H) == local("2026-10-10 14:00")
    assert CHINA.is_working_day(date(2026, 10, 10)) and not CHINA.is_working_day(date(2026, 10, 11))
    assert not CHINA.is_working_day(date(2026, 10, 1))


def test_a_make_up_sunday_before_the_holiday():
    assert CHINA.is_working_day(date(2026, 9, 20))  # Sunday, worked for National Day
    assert CHINA.add(local("2026-09-19 12:00"), H) == local("2026-09-20 10:00")


def test_spring_festival_2026():
    assert CHINA.is_working_day(date(2026, 2, 14))  # Saturday 调休
    assert not CHINA.is_working_day(date(2026, 2, 23))  # Monday, still the holiday
    assert CHINA.between(local("2026-02-13 00:00"), local("2026-02-16 00:00")) == 18 * H


def test_between_counts_only_working_time():
    assert CHINA.between(local("2026-09-11 16:00"), local("2026-09-14 11:00")) == 4 * H
    assert CHINA.between(local("2026-09-30 17:00"), local("2026-10-10 14:00")) == 24 * H
    assert CHINA.between(local("2026-10-03 10:00"), local("2026-10-03 16:00")) == timedelta(0)
    assert CHINA.between(local("2026-09-14 11:00"), local("2026-09-11 16:00")) == -4 * H


def test_always_open_is_wall_clock_time():
    start = local("2026-10-01 23:59:50")
    assert ALWAYS_OPEN.add(start, timedelta(seconds=30)) == start + timedelta(seconds=30)
    assert ALWAYS_OPEN.between(start, start + 5 * 24 * H) == 5 * 24 * H


def test_split_shifts_and_a_night_shift_that_runs_to_midnight():
    split = BusinessCalendar(weekly=(((time(9), time(12)), (time(13), time(18))),) * 7)
    assert split.add(local("2026-09-29 11:30"), H) == local("2026-09-29 13:30")
    late = BusinessCalendar(weekly=(((time(18), time(0)),),) * 7)
    assert late.add(local("2026-09-29 23:00"), 2 * H) == local("2026-09-30 19:00")


def test_other_time_zones():
    berlin = BusinessCalendar(timezone="Europe/Berlin")
    # Friday 2026-10-23 17:00 Berlin (CEST) + 2 h: 1 h Friday, then Monday 26th 09:00 CET (clocks went back).
    start = datetime(2026, 10, 23, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.add(start, 2 * H) == datetime(2026, 10, 26, 10, tzinfo=ZoneInfo("Europe/Berlin"))


def test_closures_and_bad_calendars():
    closed = CHINA.with_closures([date(2026, 9, 30)])
    assert closed.add(local("2026-09-30 10:00"), H) == local("2026-10-08 10:00")
    with pytest.raises(NoWorkingTime):
        BusinessCalendar(weekly=((),) * 7)
    with pytest.raises(ValueError, match="end before"):
        BusinessCalendar(weekly=(((time(18), time(9)),),) * 7)
    with pytest.raises(ValueError, match="timezone-aware"):
        CHINA.add(datetime(2026, 9, 30, 10), H)  # noqa: DTZ001 - the mistake under test


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
budgets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))


@settings(max_examples=300, deadline=None)
@given(moments, budgets)
def test_add_and_between_agree(start, budget):
    due = CHINA.add(start, budget)
    assert due >= start
    assert CHINA.between(start, due) == budget


@settings(max_examples=200, deadline=None)
@given(moments, budgets, budgets)
def test_adding_in_two_steps_is_adding_once(start, first, second):
    assert CHINA.add(CHINA.add(start, first), second) == CHINA.add(start, first + second)


def test_calendars_as_data():
    from kefu.domain.business_calendar import from_json

    default = from_json({})
    assert default.is_working_day(date(2026, 10, 10)) and not default.is_working_day(
        date(2026, 10, 1)
    )
    seven_days = from_json(
        {
            "weekly": [[["08:00", "22:00"]]] * 7,
            "official_holidays": False,
            "closures": ["2026-12-24"],
            "timezone": "Asia/Hong_Kong",
        }
    )
    assert seven_days.is_working_day(date(2026, 10, 1)) and not seven_days.is_working_day(
        date(2026, 12, 24)
    )
    assert seven_days.hours_on(date(2026, 10, 4)) == ((time(8), time(22)),)
    assert from_json({"weekly": [[["18:00", "24:00"]]] * 7}).hours_on(date(2026, 9, 29)) == (
        (time(18), time(0)),
    )
    assert from_json({"always_open": True}) is ALWAYS_OPEN
    for bad, message in (
        ({"weekly": [[]] * 6}, "seven days"),
        ({"timezone": "Mars/Base"}, "time zone"),
        ({"closures": ["tomorrow"]}, "dates"),
        ({"weekly": [["9-18"]] * 7}, "pairs"),
        ({"colour": 1}, "unknown calendar field"),
        ({"weekly": [[]] * 7}, "working hours"),
    ):
        with pytest.raises(ValueError, match=message):
            from_json(bad)


def test_special_days_are_the_official_holidays_and_make_up_days_that_break_the_week():
    from kefu.domain.business_calendar import official_holiday, special_days

    found = {(s.day, s.kind) for s in special_days(CHINA, date(2026, 9, 19), 25)}
    assert (date(2026, 9, 20), "work") in found  # a Sunday worked for National Day (调休)
    assert (date(2026, 10, 1), "off") in found
    assert (date(2026, 10, 3), "off") not in found  # a Saturday: off anyway
    assert (date(2026, 9, 22), "off") not in found  # an ordinary Tuesday
    assert official_holiday(date(2026, 10, 1)) == "national_day"
    assert official_holiday(date(2026, 9, 22)) is None
    assert special_days(ALWAYS_OPEN, date(2026, 9, 19), 25) == []
    closed = CHINA.with_closures([date(2026, 12, 24)])
    assert [s.day for s in special_days(closed, date(2026, 12, 21), 7)] == [date(2026, 12, 24)]


def test_the_official_schedule_known_ends_where_chinese_calendar_stops():
    from kefu.domain.business_calendar import official_holiday, official_schedule_ends

    ends = official_schedule_ends()
    assert ends >= date(2026, 10, 1)
    assert official_holiday(ends.replace(year=ends.year + 2)) is None  # not published: no name
