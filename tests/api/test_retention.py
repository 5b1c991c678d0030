"""/api/v1/retention: admins read and change the periods, validated and audited."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import AuditEvent
from tests import factories


def test_an_admin_reads_and_changes_the_periods(api, db):
    assert api.get("/api/v1/retention").json() == {
        "mail_raw": 180, "inbound_payloads": 180, "case_bodies": 1095, "survey_comments": 1095,
        "social_mentions": 365, "webchat_visitors": 90, "outbox": 180, "login_sessions": 30,
        "audit_events": 1095,
    }  # fmt: skip
    changed = api.put("/api/v1/retention", json={"mail_raw": 90, "audit_events": 0})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["mail_raw"], changed.json()["audit_events"]) == (90, 0)
    assert api.get("/api/v1/retention").json()["case_bodies"] == 1095  # not sent: unchanged
    db.rollback()
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.update"))
    assert event.before["mail_raw"] == 180 and event.after["mail_raw"] == 90


def test_a_bad_period_is_a_422_and_changes_nothing(api, db):
    for body in ({"mail_raw": -1}, {"outbox": 36_501}, {"chat_logs": 3}, {"case_bodies": "三年"}):
        refused = api.put("/api/v1/retention", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["code"] == "validation_error"
    assert api.get("/api/v1/retention").json()["mail_raw"] == 180
    db.rollback()
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.update")).all() == []


def test_the_periods_are_for_admins_only(client_for, db):
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    assert supervisor.get("/api/v1/retention").status_code == 403
    assert supervisor.put("/api/v1/retention", json={"mail_raw": 1}).status_code == 403
