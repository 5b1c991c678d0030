"""PUT /api/v1/users/me/status: 在线 / 忙碌 / 小休 / 离线, each stretch recorded, told to staff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import AgentStatusPeriod, AuditEvent, User
from kefu.domain import events as ev
from kefu.domain.chat_offers import AgentStatus
from kefu.services.actors import SYSTEM
from kefu.services.staff import agent_status
from tests import factories


def test_an_agent_sets_their_status_and_each_period_is_recorded(db, client_for, live_app):
    agent = factories.make_user(db, role="agent", name="赵客服")
    client = client_for(agent)
    told: list[ev.Event] = []
    unsubscribe = live_app.state.bus.subscribe(lambda batch: told.extend(s.event for s in batch))
    try:
        online = client.put("/api/v1/users/me/status", json={"status": "online"})
        assert online.status_code == 200
        assert online.json()["status"] == "online" and online.json()["status_name"] == "在线"
        assert online.json()["online"] is True
        on_break = client.put("/api/v1/users/me/status", json={"status": "break"}).json()
        assert on_break["status_name"] == "小休" and on_break["online"] is False
        client.put("/api/v1/users/me/status", json={"status": "break"})  # no change: no period
    finally:
        unsubscribe()
    assert [e for e in told if isinstance(e, ev.PresenceChanged)] == [
        ev.PresenceChanged(None, user_id=agent.id, status="online"),
        ev.PresenceChanged(None, user_id=agent.id, status="break"),
    ]
    periods = db.scalars(select(AgentStatusPeriod).order_by(AgentStatusPeriod.id)).all()
    assert [(p.status, p.ended_at is None) for p in periods] == [("online", False), ("break", True)]
    assert periods[0].ended_at == periods[1].started_at
    assert db.get(User, agent.id).online is False  # the status sets presence: no new cases
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == agent.id)).all()
    assert actions.count("user.status") == 2
    bad = client.put("/api/v1/users/me/status", json={"status": "asleep"})
    assert bad.status_code == 422


def test_the_time_in_each_status_is_summed_over_a_span(db, client_for):
    agent = factories.make_user(db, role="agent")
    start = utcnow() - timedelta(hours=3)
    for offset, status in ((0, "online"), (60, "break"), (75, "online"), (135, "offline")):
        agent_status.do_set_status(
            db,
            SYSTEM,
            db.get(User, agent.id),
            AgentStatus(status),
            start + timedelta(minutes=offset),
        )
    db.commit()
    span = {"since": start.isoformat(), "until": (start + timedelta(hours=3)).isoformat()}
    times = client_for(agent).get(f"/api/v1/users/{agent.id}/status-times", params=span).json()
    assert times["seconds"] == {"online": 120 * 60, "break": 15 * 60, "busy": 0, "offline": 45 * 60}
    colleague = factories.make_user(db, role="agent")
    assert client_for(colleague).get(f"/api/v1/users/{agent.id}/status-times").status_code == 404
    supervisor = factories.make_user(db, role="supervisor")
    assert client_for(supervisor).get(f"/api/v1/users/{agent.id}/status-times").status_code == 200
