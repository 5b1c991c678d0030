"""The dashboard's filters from the query string (a GET form, so every view is bookmarkable):
the period (from/to days or a preset, 近30天 by default), group, channel and the trend's grain;
and the drill-down's choice of figure. A value that cannot be read is an error shown beside the
form (the page answers 422), never a 500."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.slices import DEFAULT_TZ, Period
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services.analytics.dashboard import MAX_DAYS
from kefu.services.analytics.drilldown import Drill, Part
from kefu.services.analytics.facts import Filters
from kefu.services.analytics.kpis import date_range
from kefu.web.labels import N_

PRESETS = {
    "7d": N_("近7天"),
    "30d": N_("近30天"),
    "month": N_("本月"),
    "last_month": N_("上月"),
}
DEFAULT_PRESET = "30d"
GRAINS = {Period.DAY.value: N_("按日"), Period.WEEK.value: N_("按周")}
CHANNELS = [c.value for c in Channel]
MAX_ID = 2**62


def preset_days(key: str, today: date) -> tuple[date, date]:
    """The first and last day of a preset, today included."""
    if key == "7d":
        return today - timedelta(days=6), today
    if key == "month":
        return today.replace(day=1), today
    if key == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last.replace(day=calendar.monthrange(last.year, last.month)[1])
    return today - timedelta(days=29), today


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _id(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and 0 < int(text) < MAX_ID else None


@dataclass
class Chosen:
    """The filters as read, with what was wrong (field → message, to translate)."""

    first: date
    last: date
    preset: str
    group_id: int | None
    channel: str | None
    grain: Period
    errors: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def filters(self) -> Filters:
        return Filters(group_id=self.group_id, channel=self.channel)

    def params(self, **extra: object) -> dict[str, str]:
        values: dict[str, object] = {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "group": self.group_id or "",
            "channel": self.channel or "",
            "grain": self.grain.value,
        } | extra
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def query(self, **extra: object) -> str:
        """The query string (without ``?``) of these filters and ``extra``, for a link."""
        return urlencode(self.params(**extra))

    def with_preset(self, key: str, today: date) -> str:
        first, last = preset_days(key, today)
        return replace(self, first=first, last=last).query(range=key)


def read_filters(query: QueryParams, today: date) -> Chosen:
    errors: dict[str, str] = {}
    preset = query.get("range", "")
    if preset not in PRESETS:
        preset = "" if query.get("from") or query.get("to") else DEFAULT_PRESET
    first, last = preset_days(preset or DEFAULT_PRESET, today)
    if not preset:
        first = _day(query.get("from", "")) or first
        last = _day(query.get("to", "")) or last
        if _day(query.get("from", "")) is None or _day(query.get("to", "")) is None:
            errors["from"] = N_("日期格式应为 YYYY-MM-DD，请重新选择。")
    group = query.get("group", "")
    group_id = _id(group)
    if group and group_id is None:
        errors["group"] = N_("未知的分组。")
    channel = query.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        errors["channel"], channel = N_("未知的渠道。"), None
    grain = Period.WEEK if query.get("grain") == Period.WEEK.value else Period.DAY
    chosen = Chosen(first, last, preset, group_id, channel, grain, errors)
    if "from" not in errors:
        if last < first:
            errors["from"] = N_("结束日期早于开始日期。")
        elif (last - first).days >= MAX_DAYS:
            errors["from"] = N_("时间范围最长一年。")
        else:
            try:
                chosen.start, chosen.end = date_range(first, last, DEFAULT_TZ)
            except KefuError:
                errors["from"] = N_("日期超出可选范围（2000 年至 2999 年）。")
    return chosen


def read_drill(query: QueryParams) -> tuple[Drill, int | None, dict[str, str]]:
    """The figure to list (metric and part, complaint category, heat-map cell) and the agent."""
    errors: dict[str, str] = {}
    metric_name = query.get("metric")
    metric = Metric(metric_name) if metric_name in {m.value for m in Metric} else None
    if metric_name and metric is None:
        errors["metric"] = N_("未知的指标。")
    part_name = query.get("part", Part.SAMPLE.value)
    part = Part(part_name) if part_name in {p.value for p in Part} else Part.SAMPLE
    weekday, hour = _id(query.get("weekday")), query.get("hour", "")
    at_hour = int(hour) if hour.isdigit() and int(hour) < 24 else None
    cell = weekday is not None and weekday <= 7 and at_hour is not None
    if (query.get("weekday") or hour) and not cell:
        errors["cell"] = N_("未知的时段。")
    category = query.get("category")
    drill = Drill(
        metric=metric,
        part=part,
        category=category[:30] if category is not None else None,
        weekday=weekday if cell else None,
        hour=at_hour if cell else None,
    )
    agent = query.get("agent", "")
    agent_id = _id(agent)
    if agent and agent_id is None:
        errors["agent"] = N_("未知的坐席。")
    return drill, agent_id, errors


def today_local() -> date:
    return datetime.now(DEFAULT_TZ).date()
