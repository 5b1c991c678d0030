"""Audit events say when in UTC, in the database and in what the API shows (ASVS V16.2.2)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import AuditEvent
from tests import factories


def test_an_audit_event_is_stamped_in_utc_at_the_moment_of_the_change(db, api):
    before = utcnow()
    created = api.post(
        "/api/v1/tickets",
        json={"customer_id": factories.make_customer(db).id, "text": "发票开错了"},
    ).json()
    after = utcnow()
    (shown,) = api.get(f"/api/v1/tickets/{created['id']}/audit").json()
    at = datetime.fromisoformat(shown["created_at"].replace("Z", "+00:00"))
    assert at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= at <= after + timedelta(seconds=1)
    db.expire_all()
    row = db.scalars(select(AuditEvent).where(AuditEvent.ticket_id == created["id"])).one()
    assert row.created_at.utcoffset() == timedelta(0) and row.created_at == at
