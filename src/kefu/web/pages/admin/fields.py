"""``/admin/fields``: the custom ticket fields (自定义工单字段) — key, label, type and options,
the groups they are for, required to resolve, their place in the form, in use or not. The
label is what agents read and what a script's placeholder is named after ([订单号])."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.api.ticket_fields import TicketFieldCreate, TicketFieldUpdate
from kefu.db.models import TicketField
from kefu.domain.ticket_fields import FieldType
from kefu.services.fields import definitions as service
from kefu.services.staff.directory import list_groups
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import (
    Errors,
    Posted,
    attempt,
    checked,
    lines,
    text,
    texts,
    validate,
)
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

FIELDS = ("key", "label", "type", "options", "group_ids", "required", "position", "active")
TYPES = tuple(t.value for t in FieldType)


def _values_of(row: TicketField | None) -> dict[str, Any]:
    if row is None:
        return {"key": "", "label": "", "type": "text", "options": "", "group_ids": [],
                "required": False, "position": "", "active": True}  # fmt: skip
    return {
        "key": row.key, "label": row.label, "type": row.type, "options": "\n".join(row.options),
        "group_ids": [str(g) for g in row.group_ids], "required": row.required,
        "position": str(row.position), "active": row.active,
    }  # fmt: skip


def _posted(form: FormData) -> dict[str, Any]:
    return {
        "key": text(form, "key").strip(),
        "label": text(form, "label").strip(),
        "type": text(form, "type"),
        "options": text(form, "options"),
        "group_ids": texts(form, "group_ids"),
        "required": checked(form, "required"),
        "position": text(form, "position").strip(),
        "active": checked(form, "active"),
    }


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": values["label"],
        "type": values["type"],
        "options": lines(values["options"]),
        "group_ids": values["group_ids"],
        "required": values["required"],
        "position": values["position"] or None,
        "active": values["active"],
    }


def _page(
    request: Request,
    db: Session,
    *,
    row: TicketField | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "fields",
        "field": row,
        "values": values,
        "errors": errors or {},
        "types": TYPES,
        "groups": list_groups(db),
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/field_form.html", context, status=status)


@router.get("/admin/fields")
def fields_page(request: Request, db: DB, actor: AdminActor) -> Response:
    context = {
        "section": "fields",
        "fields": service.list_fields(db),
        "groups": {g.id: g.name for g in list_groups(db)},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/fields.html", context)


@router.get("/admin/fields/new")
def new_field_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db, row=None, values=_values_of(None))


@router.post("/admin/fields")
def create_field(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(TicketFieldCreate, {"key": values["key"], **_data(values)}, language)
    if body is not None:
        made, errors = attempt(
            db,
            lambda: service.do_create_field(
                db, actor, key=body.key, **body.model_dump(exclude={"key"}, mode="json")
            ),
            language,
            FIELDS,
        )
        if made is not None:
            return RedirectResponse("/admin/fields?done=created", status_code=303)
    return _page(request, db, row=None, values=values, errors=errors, status=422)


@router.get("/admin/fields/{field_id}")
def field_page(field_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    row = service.get_field(db, actor, field_id)
    return _page(request, db, row=row, values=_values_of(row))


@router.post("/admin/fields/{field_id}")
def update_field(
    field_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    row = service.get_field(db, actor, field_id)
    values = {**_posted(form), "key": row.key}
    data = {k: v for k, v in _data(values).items() if not (k == "position" and v is None)}
    body, errors = validate(TicketFieldUpdate, data, language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True, mode="json")
        made, errors = attempt(
            db, lambda: service.do_update_field(db, actor, row, changes), language, FIELDS
        )
        if made is not None:
            return RedirectResponse(f"/admin/fields/{field_id}?done=saved", status_code=303)
    row = service.get_field(db, actor, field_id)
    return _page(request, db, row=row, values=values, errors=errors, status=422)
