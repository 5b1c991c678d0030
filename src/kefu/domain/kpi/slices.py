"""Every figure for every slice: by agent, group, channel, category, priority, business line and
period (day, ISO week or month in a given time zone).

A case falls in exactly one slice: the one of its own values and of the period it was opened
in (local time of ``tz``). Its replies and survey questions go with it, so the numerators and
denominators of the slices add up to those of the whole (the median excepted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from kefu.domain.kpi.facts import CaseFacts, ReplyFacts, SurveyFacts
from kefu.domain.kpi.metrics import Figure, Metric, all_figures

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

SliceValue = str | int | None
SliceKey = tuple[SliceValue, ...]


class Dimension(StrEnum):
    AGENT = "agent"
    GROUP = "group"
    CHANNEL = "channel"
    CATEGORY = "category"
    PRIORITY = "priority"
    BUSINESS_LINE = "business_line"


class Period(StrEnum):
    DAY = "day"  # 2026-03-01
    WEEK = "week"  # ISO week: 2026-W09 (Monday to Sunday; the ISO year at the year's edges)
    MONTH = "month"  # 2026-03


def period_of(at: datetime, period: Period, tz: ZoneInfo = DEFAULT_TZ) -> str:
    """The label of the period ``at`` falls in, in local time of ``tz`` (``at`` is aware)."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no period")
    local = at.astimezone(tz)
    if period == Period.DAY:
        return local.date().isoformat()
    if period == Period.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def value_of(case: CaseFacts, dimension: Dimension) -> SliceValue:
    """A case's value along one dimension (None: unassigned, not analysed, no business line)."""
    values: dict[Dimension, SliceValue] = {
        Dimension.AGENT: case.agent_id,
        Dimension.GROUP: case.group_id,
        Dimension.CHANNEL: case.channel,
        Dimension.CATEGORY: case.category,
        Dimension.PRIORITY: case.priority,
        Dimension.BUSINESS_LINE: case.business_line,
    }
    return values[dimension]


def key_of(
    case: CaseFacts,
    by: Sequence[Dimension],
    period: Period | None,
    tz: ZoneInfo,
) -> SliceKey:
    """The slice of a case: its period label first (when sliced by period), then ``by`` in order."""
    head: SliceKey = (period_of(case.created_at, period, tz),) if period else ()
    return head + tuple(value_of(case, d) for d in by)


def compute(
    cases: Sequence[CaseFacts],
    replies: Sequence[ReplyFacts] = (),
    surveys: Sequence[SurveyFacts] = (),
    *,
    by: Sequence[Dimension] = (),
    period: Period | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> dict[SliceKey, dict[Metric, Figure]]:
    """Every metric for every slice that has a case, keyed as ``key_of`` says.

    With neither ``by`` nor ``period`` there is one slice, ``()``, the whole. Replies and
    survey questions of tickets not among ``cases`` are ignored. Keys come sorted (None first).
    """
    keys = {c.ticket_id: key_of(c, by, period, tz) for c in cases}
    case_groups: dict[SliceKey, list[CaseFacts]] = defaultdict(list)
    reply_groups: dict[SliceKey, list[ReplyFacts]] = defaultdict(list)
    survey_groups: dict[SliceKey, list[SurveyFacts]] = defaultdict(list)
    for c in cases:
        case_groups[keys[c.ticket_id]].append(c)
    for r in replies:
        if r.ticket_id in keys:
            reply_groups[keys[r.ticket_id]].append(r)
    for s in surveys:
        if s.ticket_id in keys:
            survey_groups[keys[s.ticket_id]].append(s)
    return {
        key: all_figures(case_groups[key], reply_groups[key], survey_groups[key])
        for key in sorted_keys(case_groups)
    }


def sorted_keys(keys: Iterable[SliceKey]) -> list[SliceKey]:
    """Slice keys in ``compute``'s order (None first, numbers by value)."""
    return sorted(keys, key=_sortable)


def _sortable(key: SliceKey) -> tuple[tuple[bool, str], ...]:
    return tuple((v is not None, f"{v:>20}" if isinstance(v, int) else str(v)) for v in key)
