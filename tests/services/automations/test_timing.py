"""Admins change the service timing: the lifecycle sweep and the follow-ups use it from the next
change of a case; a bad value changes nothing; every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, ServiceTimingRecord, Survey
from kefu.domain.roles import Role
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM, Actor
from kefu.services.automations import timing
from kefu.services.cases import tickets
from tests import factories
from tests.services.surveys.helpers import complaint_at_follow_up


def _admin(db) -> Actor:
    return Actor(factories.make_user(db, role="admin").id, Role.ADMIN)


def test_a_saved_timing_moves_the_auto_close_of_the_next_resolved_case(db):
    assert timing.current(db).close_resolved_hours == 72  # the server's setting until saved
    timing.save(db, _admin(db), {"close_resolved_hours": 12})
    db.commit()
    ticket = factories.make_ticket(db, channel="webchat")
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": "resolved"})
    db.commit()
    assert ticket.auto_due_at == ticket.resolved_at + timedelta(hours=12)
    (audit,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "automation.timing"))
    assert audit.before["close_resolved_hours"] == 72 and audit.after["close_resolved_hours"] == 12


def test_switching_auto_close_off_leaves_resolved_cases_open(db):
    timing.save(db, _admin(db), {"close_resolved_hours": 0})
    ticket = factories.make_ticket(db, channel="webchat")
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": "resolved"})
    db.commit()
    assert ticket.auto_due_at is None


def test_the_follow_up_of_a_complaint_falls_due_as_the_team_set_it(db):
    timing.save(db, _admin(db), {"follow_up_days": 1})
    db.commit()
    ticket = complaint_at_follow_up(db)
    survey = db.scalar(select(Survey).where(Survey.ticket_id == ticket.id))
    assert survey is not None and survey.purpose == "follow_up"
    assert survey.due_at == ticket.resolved_at + timedelta(days=1)


def test_a_bad_value_is_a_422_and_keeps_what_was_saved(db):
    admin = _admin(db)
    timing.save(db, admin, {"nudge_hours": 24})
    with pytest.raises(KefuError) as refused:
        timing.save(db, admin, {"nudge_hours": 24 * 366})
    assert refused.value.status_code == 422 and "nudge_hours" in refused.value.details
    assert db.get(ServiceTimingRecord, 1).config["nudge_hours"] == 24


def test_only_admins_change_it(db):
    supervisor = Actor(factories.make_user(db, role="supervisor").id, Role.SUPERVISOR)
    with pytest.raises(KefuError) as refused:
        timing.save(db, supervisor, {"nudge_hours": 1})
    assert refused.value.status_code == 403
