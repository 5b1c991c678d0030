"""``/admin/sla``: the SLA budgets of every channel × priority — first response, next response,
resolution, in working time — over the defaults; a change re-plans the open tickets concerned
(services/sla/policies.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB
from kefu.api.sla_policies import MAX_BUDGET_S, PolicyUpdate
from kefu.domain.tickets import Channel, Priority
from kefu.services.sla import policies as service
from kefu.services.sla.policies import PolicyEntry
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.labels import N_
from kefu.web.pages.admin.forms import Errors, Posted, attempt, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

TARGETS = (
    ("first_response_s", N_("首次响应")),
    ("next_response_s", N_("后续响应")),
    ("resolution_s", N_("解决")),
)
# Hours, not days: a budget counts working time, and "1 day" of it would be three working days.
UNITS = {"m": 60, "h": 3600}
UNIT_NAMES = {"m": N_("分钟数"), "h": N_("小时数"), "s": N_("秒数")}
AMOUNTS = {"m": N_("{n} 分钟"), "h": N_("{n} 小时"), "s": N_("{n} 秒")}


def split_budget(seconds: int | None) -> tuple[str, str]:
    """Seconds as the form shows them: in hours when whole, else minutes (("4", "h"))."""
    if seconds is None:
        return "", "h"
    for unit in ("h", "m"):
        if seconds % UNITS[unit] == 0:
            return str(seconds // UNITS[unit]), unit
    return str(seconds), "s"


def budget_text(seconds: int | None, language: str) -> str:
    if seconds is None:
        return "—"
    amount, unit = split_budget(seconds)
    return i18n.gettext(language, AMOUNTS[unit]).format(n=amount)


def _budgets_posted(
    form: FormData, language: str
) -> tuple[dict[str, Any], dict[str, int | None], Errors]:
    values: dict[str, Any] = {}
    budgets: dict[str, int | None] = {}
    errors: Errors = {}
    for name, _ in TARGETS:
        amount, unit = text(form, name).strip(), text(form, f"{name}_unit")
        values[name], values[f"{name}_unit"] = amount, unit
        if not amount:
            budgets[name] = None
            continue
        scale = UNITS.get(unit, 1 if unit == "s" else 0)
        if not amount.isdigit() or not scale:
            errors[name] = i18n.gettext(language, "请输入正整数")
            continue
        budgets[name] = int(amount) * scale
        if not 1 <= budgets[name] <= MAX_BUDGET_S:  # type: ignore[operator]
            errors[name] = i18n.gettext(language, "时限须在 1 分钟到 365 天之间")
    return values, budgets, errors


def _entry(db: Session, channel: Channel, priority: Priority) -> PolicyEntry:
    return next(
        p for p in service.list_policies(db) if (p.channel, p.priority) == (channel, priority)
    )


def _values_of(entry: PolicyEntry) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, _ in TARGETS:
        values[name], values[f"{name}_unit"] = split_budget(getattr(entry, name))
    return values


def _form_page(
    request: Request,
    entry: PolicyEntry,
    values: dict[str, Any],
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "sla",
        "entry": entry,
        "values": values,
        "errors": errors or {},
        "targets": TARGETS,
        "units": UNIT_NAMES,
    }
    return page(request, "workspace/admin/sla_form.html", context, status=status)


@router.get("/admin/sla")
def sla_page(request: Request, db: DB, actor: AdminActor) -> Response:
    language = i18n.language_of(request)
    entries = {(p.channel, p.priority): p for p in service.list_policies(db)}
    rows = [
        {
            "channel": channel,
            "cells": [
                {
                    "priority": priority,
                    "configured": entries[(channel, priority)].source == "configured",
                    "budgets": [
                        (title, budget_text(getattr(entries[(channel, priority)], name), language))
                        for name, title in TARGETS
                    ],
                }
                for priority in Priority
            ],
        }
        for channel in Channel
    ]
    context = {
        "section": "sla",
        "rows": rows,
        "priorities": list(Priority),
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/sla.html", context)


@router.get("/admin/sla/{channel}/{priority}")
def policy_page(
    channel: Channel, priority: Priority, request: Request, db: DB, actor: AdminActor
) -> Response:
    entry = _entry(db, channel, priority)
    return _form_page(request, entry, _values_of(entry))


@router.post("/admin/sla/{channel}/{priority}")
def set_policy(
    channel: Channel,
    priority: Priority,
    request: Request,
    db: DB,
    actor: AdminActor,
    form: Posted,
) -> Response:
    language = i18n.language_of(request)
    values, budgets, errors = _budgets_posted(form, language)
    if not errors:
        body, errors = validate(PolicyUpdate, budgets, language)
        if body is not None:
            done, errors = attempt(
                db,
                lambda: service.do_set_policy(db, actor, channel, priority, **body.model_dump()),
                language,
                budgets,
            )
            if done is not None:
                return RedirectResponse(f"/admin/sla?done={channel.value}-{priority.value}", 303)
    return _form_page(request, _entry(db, channel, priority), values, errors, status=422)


@router.post("/admin/sla/{channel}/{priority}/reset")
def reset_policy(
    channel: Channel, priority: Priority, request: Request, db: DB, actor: AdminActor
) -> Response:
    language = i18n.language_of(request)
    done, errors = attempt(
        db, lambda: service.do_reset_policy(db, actor, channel, priority), language, ()
    )
    if done is not None:
        return RedirectResponse(f"/admin/sla?done={channel.value}-{priority.value}", 303)
    entry = _entry(db, channel, priority)
    return _form_page(request, entry, _values_of(entry), errors, status=422)
