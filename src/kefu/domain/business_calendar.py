"""Business time: when a group works, and clock arithmetic that counts only those hours.

A ``BusinessCalendar`` is data: working hours per weekday in one time zone, official holidays
(days off even on a weekday) and make-up working days (调休: a weekend day that is worked).
``add`` finds the moment a budget of working time runs out; ``between`` measures the working
time inside an interval. Every datetime in and out is timezone-aware UTC, as the database
stores it; the calendar's own zone only decides which hours are working hours.

``china_mainland`` fills holidays and 调休 days from the ``chinese_calendar`` package (the
State Council's published schedule); an admin's own closures can be added as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

Interval = tuple[
    time, time
]  # [start, end) in local time; end time(0) means midnight at the end of the day

NINE_TO_SIX: tuple[Interval, ...] = ((time(9), time(18)),)
ALL_DAY: tuple[Interval, ...] = ((time(0), time(0)),)
# Look this far ahead for working time before deciding a calendar has none.
HORIZON_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working hours at all (or none within the horizon)."""


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    # Monday first; a weekday with () is a day off.
    weekly: tuple[tuple[Interval, ...], ...] = (NINE_TO_SIX,) * 5 + ((), ())
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # 调休: worked although the weekday is normally off
    workday_hours: tuple[Interval, ...] = NINE_TO_SIX  # the hours of such a make-up day
    always_open: bool = False  # 24 × 7: no hours, holidays or make-up days apply
    name: str = ""
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs seven entries, Monday first")
        for hours in (*self.weekly, self.workday_hours):
            for start, end in hours:
                if end != time(0) and end <= start:
                    raise ValueError(f"working hours {start}–{end} end before they start")
        if not self.always_open and not any(self.weekly):
            raise NoWorkingTime("a calendar needs some working hours")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The local working hours of one day."""
        if self.always_open:
            return ALL_DAY
        if day in self.holidays:
            return ()
        if day in self.workdays and not self.weekly[day.weekday()]:
            return self.workday_hours
        return self.weekly[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        return bool(self.hours_on(day))

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working hours as UTC intervals."""
        cached = self._cache.get(day)
        if cached is None:
            out = []
            for start, end in self.hours_on(day):
                local_end = datetime.combine(
                    day + timedelta(days=1) if end == time(0) else day, end, self.zone
                )
                out.append(
                    (
                        datetime.combine(day, start, self.zone).astimezone(UTC),
                        local_end.astimezone(UTC),
                    )
                )
            cached = self._cache[day] = tuple(out)
        return cached

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals from ``moment`` on, the first one clipped to start there."""
        day = moment.astimezone(self.zone).date() - timedelta(
            days=1
        )  # an interval of yesterday may run past midnight
        for offset in range(HORIZON_DAYS):
            for start, end in self.intervals_on(day + timedelta(days=offset)):
                if end > moment:
                    yield max(start, moment), end

    def add(self, start: datetime, budget: timedelta) -> datetime:
        """The moment ``budget`` of working time after ``start`` has passed."""
        _aware(start)
        if budget <= timedelta(0):
            return start
        left = budget
        for begin, end in self._intervals_from(start):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        raise NoWorkingTime(f"no {budget} of working time within {HORIZON_DAYS} days of {start}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end); negative when end is before start."""
        _aware(start)
        _aware(end)
        if end < start:
            return -self.between(end, start)
        total = timedelta(0)
        for begin, stop in self._intervals_from(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return total

    def with_closures(self, days: Iterable[date]) -> BusinessCalendar:
        """The same calendar with more days off (a company event, a local holiday)."""
        return BusinessCalendar(
            self.timezone,
            self.weekly,
            self.holidays | frozenset(days),
            self.workdays,
            self.workday_hours,
            self.always_open,
            self.name,
        )


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")


ALWAYS_OPEN = BusinessCalendar(always_open=True, name="24x7")


def china_mainland(
    weekly: tuple[tuple[Interval, ...], ...] = (NINE_TO_SIX,) * 5 + ((), ()),
    workday_hours: tuple[Interval, ...] = NINE_TO_SIX,
    timezone: str = "Asia/Shanghai",
    name: str = "",
) -> BusinessCalendar:
    """Working hours with mainland China's official holidays and 调休 days (chinese_calendar's data:
    years it has not published yet fall back to plain weekends)."""
    import chinese_calendar

    return BusinessCalendar(
        timezone=timezone,
        weekly=weekly,
        workday_hours=workday_hours,
        name=name,
        holidays=frozenset(chinese_calendar.holidays),
        workdays=frozenset(chinese_calendar.workdays),
    )


@dataclass(frozen=True)
class SpecialDay:
    """A day that breaks the calendar's weekly pattern: ``off`` (a weekday without work: an
    official holiday or a closure) or ``work`` (a weekend day worked: 调休)."""

    day: date
    kind: str
    hours: tuple[Interval, ...]


def special_days(calendar: BusinessCalendar, start: date, days: int) -> list[SpecialDay]:
    """The days of [start, start + days) that differ from the weekly hours, in order."""
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        usual, actual = bool(calendar.weekly[day.weekday()]), calendar.hours_on(day)
        if calendar.always_open or usual == bool(actual):
            continue
        out.append(SpecialDay(day, "work" if actual else "off", actual))
    return out


def official_schedule_ends() -> date:
    """The last day chinese_calendar knows the State Council's schedule for (later years fall
    back to plain weekends until a newer release of the package publishes them)."""
    import chinese_calendar

    last: date = max(max(chinese_calendar.holidays), max(chinese_calendar.workdays))
    return last


def official_holiday(day: date) -> str | None:
    """The official holiday a day belongs to or is worked for (调休), as chinese_calendar names
    it (``national_day``, ``spring_festival`` …); None for an ordinary day or a year it has not
    published."""
    import chinese_calendar

    try:
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if name is None:
        return None
    return next((h.name for h in chinese_calendar.Holiday if h.value == name), None)


# As data: how a group's calendar is stored (groups.calendar) and sent over the API -----------
#
#   {"timezone": "Asia/Shanghai", "weekly": [[["09:00", "18:00"]], …seven days, Monday first],
#    "official_holidays": true, "closures": ["2026-12-24"], "workdays": ["2026-12-27"],
#    "always_open": false}


def _interval(pair: object) -> Interval:
    if not (
        isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
    ):
        raise ValueError('working hours are ["HH:MM", "HH:MM"] pairs')
    start, end = (time.fromisoformat(p) if p != "24:00" else time(0) for p in pair)
    return start, end


def from_json(data: dict[str, Any]) -> BusinessCalendar:
    """A calendar from its stored form; ``ValueError`` with a readable message on bad data."""
    unknown = set(data) - {
        "timezone",
        "weekly",
        "official_holidays",
        "closures",
        "workdays",
        "workday_hours",
        "always_open",
        "name",
    }
    if unknown:
        raise ValueError(f"unknown calendar field(s): {', '.join(sorted(unknown))}")
    if data.get("always_open"):
        return ALWAYS_OPEN
    timezone = str(data.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError) as e:
        raise ValueError(f"unknown time zone {timezone!r}") from e
    weekly_data = data.get("weekly", [[["09:00", "18:00"]]] * 5 + [[], []])
    if not isinstance(weekly_data, list) or len(weekly_data) != 7:
        raise ValueError("weekly needs seven days, Monday first")
    weekly = tuple(tuple(_interval(p) for p in day) for day in weekly_data)
    workday_hours = tuple(_interval(p) for p in data.get("workday_hours", [["09:00", "18:00"]]))
    try:
        closures = frozenset(date.fromisoformat(str(d)) for d in data.get("closures", []))
        workdays = frozenset(date.fromisoformat(str(d)) for d in data.get("workdays", []))
    except ValueError as e:
        raise ValueError("closures and workdays are dates like 2026-12-24") from e
    if data.get("official_holidays", True):
        base = china_mainland(weekly, workday_hours, timezone, str(data.get("name", "")))
        return BusinessCalendar(
            timezone,
            weekly,
            base.holidays | closures,
            base.workdays | workdays,
            workday_hours,
            name=base.name,
        )
    return BusinessCalendar(
        timezone, weekly, closures, workdays, workday_hours, name=str(data.get("name", ""))
    )
