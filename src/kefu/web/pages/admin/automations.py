"""``/admin/automations``: the admins' if/then triggers (in order, on or off, a form of condition
and action rows) and the lifecycle delays (auto-close, nudge). The same services as the API
check and audit every change (services/automations/triggers.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.models import AutomationTrigger
from kefu.domain import automations as auto
from kefu.domain.service_timing import LIMITS as TIMING_LIMITS
from kefu.services.automations import timing
from kefu.services.automations import triggers as service
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import FORM, Errors, Posted, attempt, checked, text, texts, words
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

ROWS = 3  # condition and action rows the form offers (empty rows are left out)
EVENTS = [e.value for e in auto.Event]
CONDITION_FIELDS = sorted(auto.CONDITION_FIELDS) + ["tags"]
OPS = [o.value for o in auto.Op]
ACTIONS = ["set_field", "assign", "tag", "notify", "send_script"]
TIME_FIELDS = sorted(auto.TIME_FIELDS)


def _rows(values: list[dict[str, str]], empty: dict[str, str]) -> list[dict[str, str]]:
    return values + [dict(empty) for _ in range(max(ROWS - len(values), 1))]


def _values_of(row: AutomationTrigger | None) -> dict[str, Any]:
    d = row.definition if row is not None else {}
    after = d.get("after") or {}
    conditions = [
        {"field": c.get("field", ""), "op": c.get("op", "is"), "values": "，".join(c.get("values", []))}
        for c in d.get("conditions") or []
    ]  # fmt: skip
    actions = [_action_row(a) for a in d.get("actions") or []]
    return {
        "name": row.name if row is not None else "",
        "on": d.get("on", "created"),
        "after_since": after.get("since", "created_at"),
        "after_hours": str(after.get("hours", "")),
        "active": row.active if row is not None else True,
        "conditions": _rows(conditions, {"field": "", "op": "is", "values": ""}),
        "actions": _rows(actions, {"type": "", "arg": "", "value": ""}),
    }


def _action_row(a: dict[str, Any]) -> dict[str, str]:
    kind = a.get("type", "")
    arg = {"set_field": a.get("field"), "assign": a.get("group"), "tag": a.get("tag"),
           "notify": a.get("who"), "send_script": a.get("script_key")}.get(kind)  # fmt: skip
    value = {"set_field": a.get("value"), "assign": a.get("agent_id"),
             "notify": a.get("message")}.get(kind)  # fmt: skip
    return {"type": kind, "arg": str(arg or ""), "value": str(value or "")}


def _posted(form: FormData) -> dict[str, Any]:
    conditions = [
        {"field": f, "op": o, "values": v}
        for f, o, v in zip(texts(form, "cond_field"), texts(form, "cond_op"), texts(form, "cond_values"), strict=False)
    ]  # fmt: skip
    actions = [
        {"type": t, "arg": a.strip(), "value": v.strip()}
        for t, a, v in zip(texts(form, "act_type"), texts(form, "act_arg"), texts(form, "act_value"), strict=False)
    ]  # fmt: skip
    return {
        "name": text(form, "name").strip(),
        "on": text(form, "on"),
        "after_since": text(form, "after_since"),
        "after_hours": text(form, "after_hours").strip(),
        "active": checked(form, "active"),
        "conditions": conditions,
        "actions": actions,
    }


def definition_of(values: dict[str, Any]) -> dict[str, Any]:
    """The trigger's JSON from the form's rows; what it means is checked by the service."""
    d: dict[str, Any] = {"on": values["on"]}
    if values["on"] == auto.Event.TIME.value:
        d["after"] = {"since": values["after_since"], "hours": values["after_hours"] or "0"}
    d["conditions"] = [
        {"field": c["field"], "op": c["op"], "values": words(c["values"])}
        for c in values["conditions"]
        if c["field"]
    ]
    d["actions"] = [_action(a) for a in values["actions"] if a["type"]]
    return d


def _action(row: dict[str, str]) -> dict[str, Any]:
    arg, value = row["arg"], row["value"]
    match row["type"]:
        case "set_field":
            return {"type": "set_field", "field": arg, "value": value}
        case "assign":
            return {"type": "assign", "group": arg or None, "agent_id": value or None}
        case "tag":
            return {"type": "tag", "tag": arg}
        case "notify":
            return {"type": "notify", "who": arg, "message": value}
    return {"type": row["type"], "script_key": arg}


def _page(
    request: Request, *, row: AutomationTrigger | None, values: dict[str, Any],
    errors: Errors | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context = {
        "section": "automations",
        "trigger": row,
        "values": values,
        "errors": errors or {},
        "events": EVENTS,
        "condition_fields": CONDITION_FIELDS,
        "ops": OPS,
        "action_types": ACTIONS,
        "time_fields": TIME_FIELDS,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/automation_form.html", context, status=status)


def _list_page(
    request: Request, db: Session, *, timing_values: dict[str, Any] | None = None,
    errors: Errors | None = None, status: int = 200,
) -> Response:  # fmt: skip
    settings = request.app.state.settings
    context = {
        "section": "automations",
        "triggers": service.list_triggers(db),
        "timing": timing_values or timing.current(db, settings).to_json(),
        "timing_fields": TIMING_FIELDS,
        "errors": errors or {},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/automations.html", context, status=status)


@router.get("/admin/automations")
def automations_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _list_page(request, db)


# the timing form's number fields, in the order shown (vip_follow_up is its checkbox)
TIMING_FIELDS = [
    "close_resolved_hours", "nudge_hours", "close_unanswered_hours",
    "follow_up_days", "survey_after_hours", "vip_follow_up_hours",
]  # fmt: skip


@router.post("/admin/automations/timing")
def save_timing(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    typed = {name: text(form, name).strip() for name in TIMING_FIELDS}
    values: dict[str, Any] = {"vip_follow_up": checked(form, "vip_follow_up")}
    errors: Errors = {}
    for name, raw in typed.items():
        low, high = TIMING_LIMITS[name]
        try:
            values[name] = float(raw)
        except ValueError:
            errors[name] = i18n.gettext(language, "请输入数字")
            continue
        if not low <= values[name] <= high:  # NaN included
            errors[name] = i18n.gettext(language, "须在 %(low)s 到 %(high)s 之间") % {
                "low": f"{low:g}", "high": f"{high:g}"
            }  # fmt: skip
    if not errors:
        _saved, errors = attempt(
            db, lambda: timing.save(db, actor, values), language, TIMING_FIELDS
        )
    if errors:
        shown = {**typed, "vip_follow_up": values["vip_follow_up"]}
        return _list_page(request, db, timing_values=shown, errors=errors, status=422)
    db.commit()
    return RedirectResponse("/admin/automations?done=timing#timing", status_code=303)


@router.get("/admin/automations/new")
def new_trigger_page(request: Request, actor: AdminActor) -> Response:
    return _page(request, row=None, values=_values_of(None))


def _save(
    request: Request, db: Session, actor: Any, form: FormData, row: AutomationTrigger | None
) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    saved, errors = attempt(
        db,
        lambda: service.do_save_trigger(
            db,
            actor,
            name=values["name"],
            definition=definition_of(values),
            active=values["active"],
            row=row,
        ),  # fmt: skip
        language,
        (FORM,),
    )
    if saved is not None:
        return RedirectResponse(f"/admin/automations/{saved.id}?done=saved", status_code=303)
    values["conditions"] = _rows(values["conditions"], {"field": "", "op": "is", "values": ""})
    values["actions"] = _rows(values["actions"], {"type": "", "arg": "", "value": ""})
    return _page(request, row=row, values=values, errors=errors, status=422)


@router.post("/admin/automations")
def create_trigger(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    return _save(request, db, actor, form, None)


@router.get("/admin/automations/{trigger_id}")
def trigger_page(trigger_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    row = service.access_trigger(db, actor, trigger_id)
    return _page(request, row=row, values=_values_of(row))


@router.post("/admin/automations/{trigger_id}")
def update_trigger(
    trigger_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    return _save(request, db, actor, form, service.access_trigger(db, actor, trigger_id))


@router.post("/admin/automations/{trigger_id}/toggle")
def toggle_trigger(trigger_id: Id, db: DB, actor: AdminActor) -> Response:
    row = service.access_trigger(db, actor, trigger_id)
    service.do_set_active(db, actor, row, not row.active)
    return RedirectResponse("/admin/automations", status_code=303)


@router.post("/admin/automations/{trigger_id}/move")
def move_trigger(trigger_id: Id, db: DB, actor: AdminActor, form: Posted) -> Response:
    row = service.access_trigger(db, actor, trigger_id)
    service.do_move(db, actor, row, -1 if text(form, "direction") == "up" else 1)
    return RedirectResponse("/admin/automations", status_code=303)


@router.post("/admin/automations/{trigger_id}/delete")
def delete_trigger(trigger_id: Id, db: DB, actor: AdminActor) -> Response:
    service.do_delete_trigger(db, actor, service.access_trigger(db, actor, trigger_id))
    return RedirectResponse("/admin/automations?done=deleted", status_code=303)
