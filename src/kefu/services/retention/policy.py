"""The retention periods in force: the admins' record, or the defaults until one is saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kefu.db.models import RetentionRecord
from kefu.domain.retention import RetentionPolicy, RetentionRefused
from kefu.errors import KefuError, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra import config_records

RECORD_ID = 1


def current(session: Session) -> RetentionPolicy:
    """The periods in force (a stored record no longer valid falls back to the defaults)."""
    row = session.get(RetentionRecord, RECORD_ID)
    if row is None:
        return RetentionPolicy.defaults()
    try:
        return RetentionPolicy.from_json(row.config)
    except RetentionRefused:
        return RetentionPolicy.defaults()


def save(session: Session, actor: Actor, values: dict[str, Any]) -> RetentionPolicy:
    """``values`` over the periods in force (admins only; audited). A period out of range or an
    unknown kind is a 422 naming it; nothing is stored then."""
    if not actor.is_admin or actor.is_integration:
        raise PermissionDenied()
    before = current(session)
    try:
        policy = RetentionPolicy.from_json(values, before)
    except RetentionRefused as e:
        raise KefuError("validation_error", status_code=422, details={e.field: str(e)}) from e
    config_records.store(session, RetentionRecord, RECORD_ID, policy.to_json(), actor.user_id)
    audit.record(session, actor, "retention.update", object_type="retention_policy",
                 object_id=RECORD_ID, before=before.to_json(), after=policy.to_json())  # fmt: skip
    return policy
