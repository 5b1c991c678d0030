"""The retention periods in force: the admins' record, or the defaults until one is saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kefu.db.models import RetentionRecord
from kefu.domain.retention import RetentionPolicy, RetentionRefused
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
    before = current(session)
    return config_records.save(session, actor, (RetentionRecord, RECORD_ID), before=before,
                               parse=lambda: RetentionPolicy.from_json(values, before),
                               action="retention.update", object_type="retention_policy")  # fmt: skip
