"""Presence (/users/me/presence, /users/{id}/presence): who takes new cases, and routing honours it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AgentStatusPeriod, AuditEvent, User
from kefu.services.sla import clocks as sla
from tests import factories
from tests.checks import api_error as _error


def _presence_trail(db, user) -> list[tuple[int | None, dict]]:
    db.rollback()
    return db.execute(
        select(AuditEvent.actor_id, AuditEvent.after)
        .where(AuditEvent.action == "user.presence", AuditEvent.object_id == user.id)
        .order_by(AuditEvent.id)
    ).all()


def test_staff_go_online_and_offline_audited_once_per_change(client_for, db):
    agent = factories.make_user(db)
    client = client_for(agent)
    assert (
        client.get("/api/v1/auth/me").json()["online"] is False
    )  # a new account takes no cases yet
    online = client.put("/api/v1/users/me/presence", json={"online": True})
    assert online.status_code == 200, online.text
    assert (
        online.json()["online"] is True
        and client.get(f"/api/v1/users/{agent.id}").json()["online"] is True
    )
    assert (
        client.put("/api/v1/users/me/presence", json={"online": True}).status_code == 200
    )  # no change, no event
    assert (
        client.put(f"/api/v1/users/{agent.id}/presence", json={"online": False}).json()["online"]
        is False
    )
    assert _presence_trail(db, agent) == [
        (agent.id, {"online": True}),
        (agent.id, {"online": False}),
    ]


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_set_anyones_presence(role, client_for, db):
    agent = factories.make_user(db)
    boss = factories.make_user(db, role=role)
    assert (
        client_for(boss)
        .put(f"/api/v1/users/{agent.id}/presence", json={"online": True})
        .json()["online"]
        is True
    )
    assert _presence_trail(db, agent) == [(boss.id, {"online": True})]


@pytest.mark.parametrize("role", ["agent", "specialist"])
def test_agents_may_not_set_someone_elses_presence(role, client_for, db):
    colleague = factories.make_user(db)
    client = client_for(factories.make_user(db, role=role))
    for online in (True, False):
        _error(
            client.put(f"/api/v1/users/{colleague.id}/presence", json={"online": online}),
            403,
            "forbidden",
        )
    db.rollback()
    assert db.get(User, colleague.id).online is False
    assert _presence_trail(db, colleague) == []


def test_bad_presence_requests(api, db):
    for body in (
        {},
        {"online": "yes"},
        {"online": 1},
        {"online": None},
        {"online": True, "user_id": 1},
    ):
        _error(api.put("/api/v1/users/me/presence", json=body), 422, "validation_error")
    _error(api.put("/api/v1/users/4242/presence", json={"online": True}), 404, "not_found")


def _login(anon, email):
    response = anon.post(
        "/api/v1/auth/login", json={"email": email, "password": factories.PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_signing_in_leaves_presence_alone_and_signing_out_goes_offline(anon, client_for, db):
    agent = factories.make_user(db, email="shift@example.cn")
    assert (
        _login(anon, "shift@example.cn")["user"]["online"] is False
    )  # online only when they choose to be
    csrf = anon.cookies["kefu_csrf"]
    assert (
        anon.put(
            "/api/v1/users/me/presence", json={"online": True}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 200
    )
    status = anon.put(
        "/api/v1/users/me/status", json={"status": "online"}, headers={"X-CSRF-Token": csrf}
    )
    assert status.status_code == 200
    assert anon.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    db.rollback()
    assert db.get(User, agent.id).online is False
    assert db.get(User, agent.id).status == "offline"  # no more chats offered to them
    periods = db.scalars(
        select(AgentStatusPeriod.status)
        .where(AgentStatusPeriod.user_id == agent.id)
        .order_by(AgentStatusPeriod.id)
    ).all()
    assert periods[-2:] == ["online", "offline"]
    assert _presence_trail(db, agent) == [
        (agent.id, {"online": True}),
        (agent.id, {"online": False}),
    ]

    client_for(factories.make_user(db, role="supervisor")).put(
        f"/api/v1/users/{agent.id}/presence", json={"online": True}
    )
    assert (
        _login(anon, "shift@example.cn")["user"]["online"] is True
    )  # signing in again changes nothing


# --- routing honours presence and skills ------------------------------------------------------


def _sweep(engine):
    return sla.sweep_until_done(make_session_factory(writer_bind(engine)), utcnow)


def _routed(engine, db, **customer) -> tuple[int | None, int | None]:
    """A new case of the shared queue after a sweep: (its group, its assignee)."""
    db.rollback()  # a fresh snapshot: the server has written since (SQLite would refuse the write)
    case = factories.make_ticket(
        db, customer=factories.make_customer(db, **customer), channel="webchat"
    )
    _sweep(engine)
    db.refresh(case)
    return case.group_id, case.assignee_id


def test_routing_picks_only_online_agents_with_the_skills(engine, api, client_for, db):
    group = factories.make_group(db, name="售后组", calendar={"always_open": True})
    assert (
        api.post("/api/v1/routing/rules", json={"name": "全部", "group_id": group.id}).status_code
        == 201
    )
    agent = factories.make_user(db, groups=[group], name="张伟")
    client = client_for(agent)

    assert _routed(engine, db) == (group.id, None)  # never to an offline agent

    assert client.put("/api/v1/users/me/presence", json={"online": True}).status_code == 200
    assert _routed(engine, db) == (group.id, agent.id)

    assert _routed(engine, db, language="en") == (
        group.id,
        None,
    )  # needs "lang:en", which 张伟 lacks
    assert api.patch(f"/api/v1/users/{agent.id}", json={"skills": ["lang:en"]}).status_code == 200
    assert _routed(engine, db, language="en") == (group.id, agent.id)

    assert client.put("/api/v1/users/me/presence", json={"online": False}).status_code == 200
    assert _routed(engine, db) == (group.id, None)


def test_a_deactivated_account_goes_offline(api, client_for, db):
    agent = factories.make_user(db)
    client_for(agent).put("/api/v1/users/me/presence", json={"online": True})
    assert api.delete(f"/api/v1/users/{agent.id}").status_code == 204
    assert api.get(f"/api/v1/users/{agent.id}").json()["online"] is False
