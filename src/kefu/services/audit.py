"""The audit trail: every write records who, what, when, and the fields before and after."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Integration, User
from kefu.services.actors import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: int,
    ticket_id: int | None = None,
    customer_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_type=actor.kind,
        actor_id=actor.audit_id,
        via=actor.via,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ticket_id=ticket_id,
        customer_id=customer_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    session.add(event)
    return event


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def ticket_trail(session: Session, ticket_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
        )
    )


def integration_label(name: str) -> str:
    """How a person reads an integration in the audit trail and the timeline."""
    return f"集成「{name}」"


SYSTEM_LABEL = "系统"


def actor_names(
    session: Session, actors: set[tuple[str, int | None]]
) -> dict[tuple[str, int | None], str]:
    """Display names of the (actor_type, actor_id) pairs of audit events: a user's name,
    集成「名称」 for an integration, 系统 for the system."""
    user_ids = {i for kind, i in actors if kind == "user" and i is not None}
    integration_ids = {i for kind, i in actors if kind == "integration" and i is not None}
    names: dict[tuple[str, int | None], str] = {
        (kind, i): SYSTEM_LABEL for kind, i in actors if kind == "system"
    }
    if user_ids:
        for user_id, name in session.execute(
            select(User.id, User.name).where(User.id.in_(user_ids))
        ):
            names[("user", user_id)] = name
    if integration_ids:
        for integration_id, name in session.execute(
            select(Integration.id, Integration.name).where(Integration.id.in_(integration_ids))
        ):
            names[("integration", integration_id)] = integration_label(name)
    return names
