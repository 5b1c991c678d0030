"""``/admin/routing``: the ordered routing rules (first match wins) — add, change, enable,
reorder by dragging or with the up/down buttons — and the tester: a customer message in, which
rule would route it and why out, read by intake's own analysis and matched by the same rules
(services/cases/routing.try_routing), without creating anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, TextAnalysis
from kefu.api.routing import RuleCreate, RuleOrder, RuleUpdate
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.db.models import RoutingRule
from kefu.domain.routing import CONDITION_FIELDS, CaseFacts
from kefu.domain.tickets import Channel, Priority
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk
from kefu.errors import KefuError
from kefu.services.cases import routing as service
from kefu.services.sla.clocks import default_calendar
from kefu.services.staff import directory as staff
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.labels import N_, label
from kefu.web.pages.admin.forms import (
    Errors,
    Posted,
    attempt,
    checked,
    text,
    texts,
    validate,
    words,
)
from kefu.web.render import LOCAL_ZONE, page

router = APIRouter(include_in_schema=False)

# The conditions an admin picks from (domain/routing.Conditions), each with its label kind.
CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "channels": ("channel", tuple(c.value for c in Channel)),
    "priorities": ("priority", tuple(p.value for p in Priority)),
    "intents": ("intent", tuple(i.value for i in Intent)),
    "categories": ("category", tuple(c.value for c in Category)),
    "risks": ("risk", tuple(r.value for r in Risk)),
    "emotions": ("emotion", tuple(e.value for e in Emotion)),
    "languages": ("language", ("zh", "en")),
}
FIELD_NAMES = {
    "channels": N_("渠道"),
    "priorities": N_("优先级"),
    "intents": N_("意图"),
    "categories": N_("类别"),
    "risks": N_("风险（任一）"),
    "emotions": N_("情绪"),
    "customer_tags": N_("客户标签（任一）"),
    "languages": N_("客户语言"),
    "business_hours": N_("时间"),
}
LANGUAGE_NAMES = {"zh": N_("中文"), "en": N_("英文")}
BUSINESS_HOURS = {"any": None, "in": True, "out": False}
RULE_FIELDS = ("name", "group_id", "conditions", "notify_supervisor", "enabled")
TESTER_TEXT_LIMIT = 5000
TESTER_YEARS = (2000, 2100)


def _name_of(kind: str, code: str, language: str) -> str:
    gettext = i18n.translations(language).gettext
    if kind == "language":
        return gettext(LANGUAGE_NAMES.get(code, code))
    return gettext(label(kind, code))


def _hours_name(value: bool, language: str) -> str:
    return i18n.gettext(language, "工作时间内") if value else i18n.gettext(language, "工作时间外")


def describe(conditions: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """A rule's conditions as (field, accepted values) lines: 意图 — 投诉."""
    gettext = i18n.translations(language).gettext
    sep = i18n.gettext(language, "、")
    out = []
    for field in CONDITION_FIELDS:
        values = conditions.get(field) or []
        if not values:
            continue
        kind = CHOICES[field][0] if field in CHOICES else ""
        shown = [_name_of(kind, v, language) if kind else v for v in values]
        out.append((gettext(FIELD_NAMES[field]), sep.join(shown)))
    if conditions.get("business_hours") is not None:
        hours = _hours_name(conditions["business_hours"], language)
        out.append((gettext(FIELD_NAMES["business_hours"]), hours))
    return out


def _failure(field: str, conditions: dict[str, Any], facts: CaseFacts, language: str) -> str:
    """Why one condition refused the case: 意图：需要 投诉；这条消息是 咨询."""
    gettext = i18n.translations(language).gettext
    sep = i18n.gettext(language, "、")
    if field == "business_hours":
        wanted = _hours_name(conditions["business_hours"], language)
        actual = _hours_name(facts.in_business_hours, language)
    else:
        kind = CHOICES[field][0] if field in CHOICES else ""
        facts_field = {
            "channels": "channel",
            "priorities": "priority",
            "intents": "intent",
            "categories": "category",
            "emotions": "emotion",
            "languages": "language",
        }.get(field, field)
        value = getattr(facts, facts_field)
        found = sorted(value) if isinstance(value, frozenset) else [value] if value else []
        wanted = sep.join(_name_of(kind, v, language) if kind else v for v in conditions[field])
        actual = sep.join(_name_of(kind, v, language) if kind else v for v in found)
        actual = actual or i18n.gettext(language, "无")
    return i18n.gettext(language, "{field}：需要 {wanted}，这条消息是 {actual}").format(
        field=gettext(FIELD_NAMES[field]), wanted=wanted, actual=actual
    )


# --- the rules ----------------------------------------------------------------------------------


def _rule_values(rule: RoutingRule | None) -> dict[str, Any]:
    conditions = rule.conditions if rule else {}
    hours = conditions.get("business_hours")
    return {
        "name": rule.name if rule else "",
        "group_id": str(rule.group_id) if rule else "",
        "notify_supervisor": rule.notify_supervisor if rule else False,
        "enabled": rule.enabled if rule else True,
        "conditions": {f: list(conditions.get(f, [])) for f in CHOICES},
        "customer_tags": ", ".join(conditions.get("customer_tags", [])),
        "business_hours": next(k for k, v in BUSINESS_HOURS.items() if v == hours),
    }


def _rule_posted(form: FormData) -> dict[str, Any]:
    hours = text(form, "business_hours")
    return {
        "name": text(form, "name").strip(),
        "group_id": text(form, "group_id"),
        "notify_supervisor": checked(form, "notify_supervisor"),
        "enabled": checked(form, "enabled"),
        "conditions": {f: texts(form, f) for f in CHOICES},
        "customer_tags": text(form, "customer_tags"),
        "business_hours": hours if hours in BUSINESS_HOURS else "any",
    }


def _rule_data(values: dict[str, Any]) -> dict[str, Any]:
    conditions: dict[str, Any] = {f: v for f, v in values["conditions"].items() if v}
    tags = words(values["customer_tags"])
    if tags:
        conditions["customer_tags"] = tags
    hours = BUSINESS_HOURS[values["business_hours"]]
    if hours is not None:
        conditions["business_hours"] = hours
    return {
        "name": values["name"],
        "group_id": values["group_id"],
        "conditions": conditions,
        "notify_supervisor": values["notify_supervisor"],
        "enabled": values["enabled"],
    }


def _choices(values: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """The condition checkboxes, with any stored value the lists lack (set through the API)."""
    out = []
    for field, (kind, codes) in CHOICES.items():
        chosen = values["conditions"][field]
        extra = [c for c in chosen if c not in codes]
        options = [(c, _name_of(kind, c, language)) for c in (*codes, *extra)]
        out.append({"field": field, "title": FIELD_NAMES[field], "options": options})
    return out


def _checked_rule(
    values: dict[str, Any], language: str, model: type[RuleCreate] | type[RuleUpdate]
) -> tuple[Any, Errors]:
    if not values["group_id"]:
        data = _rule_data({**values, "group_id": "1"})
        _, errors = validate(model, data, language)
        return None, {**errors, "group_id": i18n.gettext(language, "请选择分组")}
    return validate(model, _rule_data(values), language)


def _form_page(
    request: Request,
    db: Session,
    *,
    rule: RoutingRule | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    language = i18n.language_of(request)
    context = {
        "section": "routing",
        "rule": rule,
        "values": values,
        "errors": errors or {},
        "groups": staff.list_groups(db),
        "choices": _choices(values, language),
    }
    return page(request, "workspace/admin/rule_form.html", context, status=status)


def _rules_context(db: Session, language: str) -> list[dict[str, Any]]:
    return [
        {"rule": r, "conditions": describe(r.conditions, language)} for r in service.list_rules(db)
    ]


def _routing_page(
    request: Request, db: Session, *, tester: dict[str, Any], status: int = 200
) -> Response:
    language = i18n.language_of(request)
    context = {
        "section": "routing",
        "rules": _rules_context(db, language),
        "tester": tester,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/routing.html", context, status=status)


@router.get("/admin/routing")
def routing_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _routing_page(request, db, tester=_tester_context(_tester_values(None), {}, None))


@router.get("/admin/routing/new")
def new_rule_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _form_page(request, db, rule=None, values=_rule_values(None))


@router.post("/admin/routing")
def create_rule(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    values = _rule_posted(form)
    body, errors = _checked_rule(values, language, RuleCreate)
    if body is not None:
        created, errors = attempt(
            db,
            lambda: service.do_create_rule(db, actor, **body.model_dump()),
            language,
            RULE_FIELDS,
        )
        if created is not None:
            return RedirectResponse(f"/admin/routing?done=created#rule-{created.id}", 303)
    return _form_page(request, db, rule=None, values=values, errors=errors, status=422)


@router.post("/admin/routing/order")
def reorder_rules(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    """The whole order, as the list shows it after a drag or a move (htmx: 204)."""
    language = i18n.language_of(request)
    body, errors = validate(RuleOrder, {"ids": texts(form, "ids")}, language)
    if body is None:
        raise KefuError("invalid_rule_order", status_code=422)
    service.do_reorder_rules(db, actor, body.ids)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse("/admin/routing?done=order", status_code=303)


@router.post("/admin/routing/test")
def test_routing(
    request: Request, db: DB, actor: AdminActor, form: Posted, analysis: TextAnalysis
) -> Response:
    """The tester: which rule would route this message now, and why (nothing is written)."""
    language = i18n.language_of(request)
    values = _tester_values(form)
    errors = _tester_errors(values, language)
    trial = None
    if not errors:
        trial = service.try_routing(
            db,
            actor,
            text=values["text"],
            channel=values["channel"],
            customer_tags=_tester_tags(values),
            customer_language=values["language"],
            at=_tester_time(values) or utcnow(),
            analyzer=analysis(),
            calendar=default_calendar(),
        )
    shown = _trial_context(trial, language) if trial is not None else None
    tester = _tester_context(values, errors, shown)
    if request.headers.get("hx-request"):
        return page(request, "workspace/admin/_tester.html", {"tester": tester})
    return _routing_page(request, db, tester=tester, status=422 if errors else 200)


@router.get("/admin/routing/{rule_id}")
def rule_page(rule_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    rule = service.get_rule(db, rule_id)
    return _form_page(request, db, rule=rule, values=_rule_values(rule))


@router.post("/admin/routing/{rule_id}")
def update_rule(rule_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    rule = service.get_rule(db, rule_id)
    values = _rule_posted(form)
    body, errors = _checked_rule(values, language, RuleUpdate)
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        done, errors = attempt(
            db, lambda: service.do_update_rule(db, actor, rule, changes), language, RULE_FIELDS
        )
        if done is not None:
            return RedirectResponse(f"/admin/routing?done=saved#rule-{rule_id}", 303)
    rule = service.get_rule(db, rule_id)
    return _form_page(request, db, rule=rule, values=values, errors=errors, status=422)


@router.post("/admin/routing/{rule_id}/enabled")
def set_enabled(rule_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    rule = service.get_rule(db, rule_id)
    service.do_update_rule(db, actor, rule, {"enabled": text(form, "enabled") == "on"})
    return RedirectResponse(f"/admin/routing?done=saved#rule-{rule_id}", 303)


@router.post("/admin/routing/{rule_id}/move")
def move_rule(rule_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    """One step up or down (the list's buttons without JavaScript)."""
    rule = service.get_rule(db, rule_id)
    ids = [r.id for r in service.list_rules(db)]
    at = ids.index(rule.id)
    to = at - 1 if text(form, "direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        service.do_reorder_rules(db, actor, ids)
    return RedirectResponse(f"/admin/routing?done=order#rule-{rule_id}", 303)


@router.post("/admin/routing/{rule_id}/delete")
def delete_rule(rule_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    service.do_delete_rule(db, actor, service.get_rule(db, rule_id))
    return RedirectResponse("/admin/routing?done=deleted", 303)


# --- the tester ------------------------------------------------------------------------------------


def _tester_values(form: FormData | None) -> dict[str, Any]:
    if form is None:
        return {
            "text": "",
            "channel": "webchat",
            "vip": False,
            "tags": "",
            "language": "zh-CN",
            "at": "",
        }
    return {
        "text": text(form, "text").strip(),
        "channel": text(form, "channel"),
        "vip": checked(form, "vip"),
        "tags": text(form, "tags"),
        "language": text(form, "language"),
        "at": text(form, "at"),
    }


def _tester_tags(values: dict[str, Any]) -> list[str]:
    return [*(["VIP"] if values["vip"] else []), *words(values["tags"])[:20]]


def _tester_time(values: dict[str, Any]) -> datetime | None:
    """The moment the message would arrive: a Beijing-time datetime-local field (empty: now)."""
    if not values["at"]:
        return None
    try:
        moment = datetime.fromisoformat(values["at"])
    except ValueError:
        return None
    if not TESTER_YEARS[0] <= moment.year <= TESTER_YEARS[1]:
        return None  # business-hours arithmetic near the ends of the calendar would overflow
    return moment.replace(tzinfo=LOCAL_ZONE) if moment.tzinfo is None else moment


def _tester_errors(values: dict[str, Any], language: str) -> Errors:
    errors: Errors = {}
    if not values["text"]:
        errors["text"] = i18n.gettext(language, "请输入一条客户消息")
    elif len(values["text"]) > TESTER_TEXT_LIMIT:
        message = i18n.gettext(language, "最多 {max_length} 个字符")
        errors["text"] = message.format(max_length=TESTER_TEXT_LIMIT)
    if values["channel"] not in CHOICES["channels"][1]:
        errors["channel"] = i18n.gettext(language, "请从列表中选择")
    if values["language"] not in ("zh-CN", "en"):
        errors["language"] = i18n.gettext(language, "请从列表中选择")
    if values["at"] and _tester_time(values) is None:
        errors["at"] = i18n.gettext(language, "格式不正确")
    if any(len(tag) > 50 for tag in words(values["tags"])):
        errors["tags"] = i18n.gettext(language, "每个标签最多 50 个字符")
    return errors


def _tester_context(
    values: dict[str, Any], errors: Errors, trial: dict[str, Any] | None
) -> dict[str, Any]:
    return {"values": values, "errors": errors, "trial": trial, "channels": CHOICES["channels"][1]}


def _trial_context(trial: service.RoutingTrial, language: str) -> dict[str, Any]:
    rows = []
    for tried in trial.rules:
        rule = tried.rule
        if not rule.enabled:
            state = "off"
        elif trial.matched is not None and rule.id == trial.matched.id:
            state = "hit"
        elif not tried.failures:
            state = "later"  # meets every condition, but an earlier rule took the case
        else:
            state = "miss"
        rows.append(
            {
                "rule": rule,
                "state": state,
                "why": [
                    _failure(f, rule.conditions, trial.facts, language) for f in tried.failures
                ],
                "conditions": describe(rule.conditions, language),
            }
        )
    return {
        "triage": trial.triage,
        "reasons": trial.reasons,
        "facts": trial.facts,
        "rows": rows,
        "matched": trial.matched,
        "choice": trial.choice,
        "reason": trial.reason,
    }
