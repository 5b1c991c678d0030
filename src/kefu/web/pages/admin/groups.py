"""``/admin/groups``: groups, their members and how cases are shared among them, and their
working hours — hours per weekday (a lunch break as a second span), mainland China's official
holidays and 调休 days (chinese_calendar, domain/business_calendar.py), the company's own days
off and extra working days. The SLA clocks of a group's cases count only these hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.api.users import GroupCreate, GroupUpdate
from kefu.db.models import Group
from kefu.domain.business_calendar import (
    from_json,
    official_holiday,
    official_schedule_ends,
    special_days,
)
from kefu.domain.routing import AssignMode
from kefu.services.staff import directory as staff
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.labels import N_
from kefu.web.pages.admin.forms import (
    FORM,
    Errors,
    Posted,
    attempt,
    checked,
    text,
    texts,
    validate,
)
from kefu.web.render import LOCAL_ZONE, page

router = APIRouter(include_in_schema=False)

WEEKDAYS = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))
TIMEZONES = (
    ("Asia/Shanghai", N_("北京时间")),
    ("Asia/Hong_Kong", N_("香港")),
    ("Asia/Taipei", N_("台北")),
    ("Asia/Singapore", N_("新加坡")),
    ("Asia/Tokyo", N_("东京")),
    ("Europe/London", N_("伦敦")),
    ("Europe/Berlin", N_("柏林")),
    ("America/New_York", N_("纽约")),
    ("America/Los_Angeles", N_("洛杉矶")),
    ("UTC", N_("协调世界时")),
)
ASSIGN_MODES = {
    AssignMode.LEAST_LOADED.value: N_("负载最低者优先"),
    AssignMode.ROUND_ROBIN.value: N_("轮流分配"),
}
HOLIDAYS = {
    "new_years_day": N_("元旦"),
    "spring_festival": N_("春节"),
    "tomb_sweeping_day": N_("清明节"),
    "labour_day": N_("劳动节"),
    "dragon_boat_festival": N_("端午节"),
    "national_day": N_("国庆节"),
    "mid_autumn_festival": N_("中秋节"),
    "anti_fascist_70th_day": N_("抗战胜利纪念日"),
}
# The stored form of the default calendar (services/sla/clocks.default_calendar): a group
# whose hours are these keeps None, "the company's default hours".
NINE_TO_SIX = [["09:00", "18:00"]]
DEFAULT_CALENDAR: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "weekly": [NINE_TO_SIX] * 5 + [[], []],
    "official_holidays": True,
    "closures": [],
    "workdays": [],
    "workday_hours": NINE_TO_SIX,
}
PREVIEW_DAYS = 120
GROUP_FIELDS = ("name", "description", "member_ids", "assign_mode", "calendar")


# --- working hours: the stored calendar ⇄ the form ----------------------------------------------


def hours_values(calendar: dict[str, Any] | None) -> dict[str, Any]:
    """A stored calendar as the form shows it (None: the default hours)."""
    data = {**DEFAULT_CALENDAR, **(calendar or {})}
    days = []
    for spans in data["weekly"]:
        pairs = [list(p) for p in spans] + [["", ""], ["", ""]]
        days.append(
            {
                "open": bool(spans),
                "start1": pairs[0][0] if spans else "09:00",
                "end1": pairs[0][1] if spans else "18:00",
                "start2": pairs[1][0],
                "end2": pairs[1][1],
                "more": len(spans) > 2,  # set through the API; the form keeps two spans
            }
        )
    makeup = (list(data["workday_hours"]) or NINE_TO_SIX)[0]
    return {
        "always_open": bool(data.get("always_open")),
        "timezone": data["timezone"],
        "official_holidays": bool(data["official_holidays"]),
        "days": days,
        "makeup_start": makeup[0],
        "makeup_end": makeup[1],
        "closures": "\n".join(data["closures"]),
        "workdays": "\n".join(data["workdays"]),
    }


def _hours_posted(form: FormData) -> dict[str, Any]:
    return {
        "always_open": checked(form, "always_open"),
        "timezone": text(form, "timezone"),
        "official_holidays": checked(form, "official_holidays"),
        "days": [
            {
                "open": checked(form, f"day{i}_open"),
                **{k: text(form, f"day{i}_{k}") for k in ("start1", "end1", "start2", "end2")},
            }
            for i in range(7)
        ],
        "makeup_start": text(form, "makeup_start"),
        "makeup_end": text(form, "makeup_end"),
        "closures": text(form, "closures"),
        "workdays": text(form, "workdays"),
    }


def _clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if len(value) == 5 else None
    except ValueError:
        return None


def _span(start: str, end: str, language: str) -> tuple[list[str] | None, str]:
    """One working span from two "HH:MM" fields; an end of 00:00 is midnight, the day's end."""
    begin, stop = _clock(start), _clock(end)
    if begin is None or stop is None:
        return None, i18n.gettext(language, "请填写上班和下班时间（时:分）")
    if stop != time(0) and stop <= begin:
        return None, i18n.gettext(language, "下班时间须晚于上班时间")
    return [start, end], ""


def _day_spans(day: dict[str, Any], language: str) -> tuple[list[list[str]], str]:
    if not day["open"]:
        return [], ""
    first, error = _span(day["start1"], day["end1"], language)
    if first is None:
        return [], error
    if not (day["start2"] or day["end2"]):
        return [first], ""
    second, error = _span(day["start2"], day["end2"], language)
    if second is None:
        return [], error
    if first[1] == "00:00" or second[0] < first[1]:
        return [], i18n.gettext(language, "第二段须在第一段结束之后开始")
    return [first, second], ""


def _dates(value: str, language: str) -> tuple[list[str], str]:
    found = []
    for line in value.replace(",", "\n").replace("，", "\n").splitlines():
        if not line.strip():
            continue
        try:
            found.append(date.fromisoformat(line.strip()).isoformat())
        except ValueError:
            message = i18n.gettext(language, "日期格式应为 2026-12-24：{value}")
            return [], message.format(value=line.strip()[:40])
    return sorted(set(found)), ""


def calendar_posted(values: dict[str, Any], language: str) -> tuple[dict[str, Any] | None, Errors]:
    """The calendar to store from the form's values (None: the default hours), or the errors
    per field: ``day0``…``day6``, ``weekly``, ``makeup``, ``closures``, ``workdays``."""
    errors: Errors = {}
    weekly = []
    for i, day in enumerate(values["days"]):
        spans, error = _day_spans(day, language)
        weekly.append(spans)
        if error:
            errors[f"day{i}"] = error
    if not any(weekly) and not errors and not values["always_open"]:
        errors["weekly"] = i18n.gettext(language, "至少要有一天有工作时间")
    makeup, error = _span(values["makeup_start"], values["makeup_end"], language)
    if makeup is None:
        errors["makeup"] = error
    closures, error = _dates(values["closures"], language)
    if error:
        errors["closures"] = error
    workdays, error = _dates(values["workdays"], language)
    if error:
        errors["workdays"] = error
    if errors:
        return None, errors
    calendar: dict[str, Any] = {
        "timezone": values["timezone"] or "Asia/Shanghai",
        "weekly": weekly,
        "official_holidays": values["official_holidays"],
        "closures": closures,
        "workdays": workdays,
        "workday_hours": [makeup],
    }
    if values["always_open"]:
        calendar["always_open"] = True
    return (None if calendar == DEFAULT_CALENDAR else calendar), {}


def hours_summary(calendar: dict[str, Any] | None, language: str) -> list[str]:
    """Working hours in a few words: 周一至周五 09:00–18:00 · 法定节假日休息."""
    gettext = i18n.translations(language).gettext
    values = hours_values(calendar)
    if values["always_open"]:
        return [i18n.gettext(language, "全天 24 小时，节假日无休")]
    runs: list[tuple[int, int, str]] = []
    for i, day in enumerate(values["days"]):
        if not day["open"]:
            continue
        spans = [f"{day['start1']}–{day['end1']}"]
        if day["start2"]:
            spans.append(f"{day['start2']}–{day['end2']}")
        hours = ", ".join(spans)
        if runs and runs[-1][1] == i - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], i, hours)
        else:
            runs.append((i, i, hours))
    out = []
    for first, last, hours in runs:
        days = gettext(WEEKDAYS[first])
        if last > first:
            days = i18n.gettext(language, "{first}至{last}").format(
                first=days, last=gettext(WEEKDAYS[last])
            )
        out.append(f"{days} {hours}")
    if values["official_holidays"]:
        out.append(i18n.gettext(language, "法定节假日休息，调休日上班"))
    if values["timezone"] != "Asia/Shanghai":
        out.append(values["timezone"])
    return out


def upcoming_days(group: Group) -> list[dict[str, Any]]:
    """The next months' days off and extra working days of the group's saved hours."""
    calendar = from_json(group.calendar or {})
    closures = set((group.calendar or {}).get("closures", []))
    today = datetime.now(LOCAL_ZONE).date()
    return [
        {
            "day": special.day,
            "weekday": WEEKDAYS[special.day.weekday()],
            "kind": special.kind,
            "holiday": HOLIDAYS.get(official_holiday(special.day) or ""),
            "closure": special.day.isoformat() in closures,
        }
        for special in special_days(calendar, today, PREVIEW_DAYS)
    ]


def _schedule_gap(hours: dict[str, Any]) -> date | None:
    """The last day of the official schedule kefu knows, when the preview reaches past it."""
    ends = official_schedule_ends()
    last = datetime.now(LOCAL_ZONE).date() + timedelta(days=PREVIEW_DAYS)
    return ends if hours["official_holidays"] and not hours["always_open"] and last > ends else None


# --- pages ---------------------------------------------------------------------------------------


def _group_values(group: Group | None) -> dict[str, Any]:
    if group is None:
        return {
            "name": "",
            "description": "",
            "assign_mode": AssignMode.LEAST_LOADED.value,
            "member_ids": [],
            "hours": hours_values(None),
        }
    return {
        "name": group.name,
        "description": group.description,
        "assign_mode": group.assign_mode,
        "member_ids": [str(u.id) for u in group.members],
        "hours": hours_values(group.calendar),
    }


def _posted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name").strip(),
        "description": text(form, "description").strip(),
        "assign_mode": text(form, "assign_mode"),
        "member_ids": texts(form, "member_ids"),
        "hours": _hours_posted(form),
    }


def _form_page(
    request: Request,
    db: Session,
    *,
    group: Group | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    members = {int(i) for i in values["member_ids"] if i.isdigit()}
    people = [u for u in staff.list_users(db) if u.is_active or u.id in members]
    zones = list(TIMEZONES)
    if values["hours"]["timezone"] not in {z for z, _ in zones}:
        zones.insert(0, (values["hours"]["timezone"], values["hours"]["timezone"]))
    context = {
        "section": "groups",
        "group": group,
        "values": values,
        "errors": errors or {},
        "people": people,
        "weekdays": WEEKDAYS,
        "timezones": zones,
        "assign_modes": ASSIGN_MODES,
        "upcoming": upcoming_days(group) if group is not None else [],
        "schedule_ends": _schedule_gap(values["hours"]),
        "preview_days": PREVIEW_DAYS,
        "done": done,
    }
    return page(request, "workspace/admin/group_form.html", context, status=status)


def _checked_body(
    model: type[GroupCreate] | type[GroupUpdate], values: dict[str, Any], language: str
) -> tuple[GroupCreate | GroupUpdate | None, Errors]:
    calendar, errors = calendar_posted(values["hours"], language)
    data = {k: values[k] for k in ("name", "description", "member_ids", "assign_mode")}
    body, field_errors = validate(model, {**data, "calendar": calendar}, language)
    errors = {**field_errors, **errors}
    return (body if not errors else None), errors


@router.get("/admin/groups")
def groups_page(request: Request, db: DB, actor: AdminActor) -> Response:
    language = i18n.language_of(request)
    groups = [
        {"group": g, "hours": hours_summary(g.calendar, language)} for g in staff.list_groups(db)
    ]
    context = {
        "section": "groups",
        "groups": groups,
        "assign_modes": ASSIGN_MODES,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/groups.html", context)


@router.get("/admin/groups/new")
def new_group_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _form_page(request, db, group=None, values=_group_values(None))


@router.post("/admin/groups")
def create_group(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = _checked_body(GroupCreate, values, language)
    if isinstance(body, GroupCreate):
        created, errors = attempt(
            db,
            lambda: staff.do_create_group(db, actor, **body.model_dump(mode="json")),
            language,
            GROUP_FIELDS,
        )
        if created is not None:
            return RedirectResponse(f"/admin/groups/{created.id}?done=created", status_code=303)
    return _form_page(request, db, group=None, values=values, errors=errors, status=422)


@router.get("/admin/groups/{group_id}")
def group_page(group_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    group = staff.get_group(db, group_id)
    done = request.query_params.get("done")
    return _form_page(request, db, group=group, values=_group_values(group), done=done)


@router.post("/admin/groups/{group_id}")
def update_group(
    group_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    group = staff.get_group(db, group_id)
    values = _posted(form)
    body, errors = _checked_body(GroupUpdate, values, language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True)  # calendar None: back to the default hours
        changes["calendar"] = body.calendar
        done, errors = attempt(
            db, lambda: staff.do_update_group(db, actor, group, changes), language, GROUP_FIELDS
        )
        if done is not None:
            return RedirectResponse(f"/admin/groups/{group_id}?done=saved", status_code=303)
    group = staff.get_group(db, group_id)
    return _form_page(request, db, group=group, values=values, errors=errors, status=422)


@router.post("/admin/groups/{group_id}/delete")
def delete_group(group_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    language = i18n.language_of(request)
    group = staff.get_group(db, group_id)

    def delete() -> bool:
        staff.do_delete_group(db, actor, group)
        return True

    done, errors = attempt(db, delete, language, ())
    if done:
        return RedirectResponse("/admin/groups?done=deleted", status_code=303)
    group = staff.get_group(db, group_id)
    errors = {"delete": errors.get(FORM, "")}
    return _form_page(
        request, db, group=group, values=_group_values(group), errors=errors, status=409
    )
