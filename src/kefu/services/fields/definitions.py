"""Field definitions (自定义工单字段): admins make, change, reorder and retire them; everyone
reads them to fill in a case. A field is never deleted (its values stay on old cases): it is
made inactive, and an inactive field is neither shown nor accepted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import Group, TicketField
from kefu.domain import ticket_fields as rules
from kefu.domain.ticket_fields import FieldSpec, FieldType, FieldValueError
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor

EDITABLE = ("label", "type", "options", "group_ids", "required", "position", "active")


def spec_of(row: TicketField) -> FieldSpec:
    return FieldSpec(
        key=row.key,
        label=row.label,
        type=FieldType(row.type),
        options=tuple(row.options or ()),
        required=row.required,
        group_ids=frozenset(row.group_ids or ()),
    )


def snapshot(row: TicketField) -> dict[str, Any]:
    return {"key": row.key, **{name: getattr(row, name) for name in EDITABLE}}


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def list_fields(session: Session, *, active_only: bool = False) -> list[TicketField]:
    query = select(TicketField).order_by(TicketField.position, TicketField.id)
    if active_only:
        query = query.where(TicketField.active.is_(True))
    return list(session.scalars(query))


def get_field(session: Session, actor: Actor, field_id: int) -> TicketField:
    _require_admin(actor)
    row = session.get(TicketField, field_id)
    if row is None:
        raise NotFound("ticket_field")
    return row


def specs_for(session: Session, group_id: int | None) -> dict[str, FieldSpec]:
    """The active fields a ticket of this group has, by key, in form order."""
    specs = (spec_of(row) for row in list_fields(session, active_only=True))
    return {s.key: s for s in specs if s.applies_to(group_id)}


def _invalid(error: FieldValueError, field: str) -> KefuError:
    return KefuError(f"field_{error.reason}", status_code=422, details={"field": field})


def _checked(session: Session, values: dict[str, Any], key: str) -> dict[str, Any]:
    """The definition's values checked together (a choice has options; groups exist)."""
    try:
        values["options"] = list(
            rules.check_definition(key, FieldType(values["type"]), values.get("options") or [])
        )
    except FieldValueError as e:
        raise _invalid(e, "key" if e.reason == "bad_key" else "options") from e
    groups = sorted(set(values.get("group_ids") or []))
    if groups:
        found = set(session.scalars(select(Group.id).where(Group.id.in_(groups))))
        if missing := [g for g in groups if g not in found]:
            raise NotFound("group", details={"field": "group_ids", "missing": missing})
    values["group_ids"] = groups
    return values


def _flush_unique(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as e:
        text = str(e.orig).lower()
        field = "label" if "label" in text else "key"
        raise Conflict("field_taken", details={"field": field}) from e


def _check_free(session: Session, row_id: int | None, key: str, label: str) -> None:
    for column, value, name in ((TicketField.key, key, "key"), (TicketField.label, label, "label")):
        query = select(TicketField.id).where(column == value)
        if row_id is not None:
            query = query.where(TicketField.id != row_id)
        if session.scalar(query) is not None:
            raise Conflict("field_taken", details={"field": name})


def do_create_field(session: Session, actor: Actor, *, key: str, **values: Any) -> TicketField:
    """A new field; ``values``: label, type, options, group_ids, required, position, active."""
    _require_admin(actor)
    values = _checked(session, {"options": [], "group_ids": [], **values}, key)
    _check_free(session, None, key, values["label"])
    if "position" not in values or values["position"] is None:
        last = session.scalar(select(TicketField.position).order_by(TicketField.position.desc()))
        values["position"] = (last or 0) + 10
    row = TicketField(key=key, **{k: v for k, v in values.items() if k in EDITABLE})
    session.add(row)
    _flush_unique(session)
    audit.record(
        session, actor, "ticket_field.create", object_type="ticket_field", object_id=row.id,
        after=snapshot(row),
    )  # fmt: skip
    return row


def do_update_field(
    session: Session, actor: Actor, row: TicketField, changes: dict[str, Any]
) -> TicketField:
    """Change a field's label, type, options, groups, flags or place; the key stays (it is
    what integrations send and what the values are stored under)."""
    _require_admin(actor)
    before = snapshot(row)
    values = _checked(session, {**before, **changes}, row.key)
    _check_free(session, row.id, row.key, values["label"])
    for name in EDITABLE:
        setattr(row, name, values[name])
    _flush_unique(session)
    old, new = audit.changed_fields(before, snapshot(row))
    if new:
        audit.record(
            session, actor, "ticket_field.update", object_type="ticket_field", object_id=row.id,
            before=old, after=new,
        )  # fmt: skip
    return row
