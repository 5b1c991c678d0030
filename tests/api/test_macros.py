"""Macros: a script plus ticket actions in one click, through the ticket and case services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.api.macros import MacroActions
from kefu.db.models import AuditEvent, Script
from kefu.services.scripts import macros
from kefu.services.scripts.starter import ensure_starter_library
from tests import factories
from tests.checks import api_error


@pytest.fixture
def library(db):
    ensure_starter_library(db)
    db.commit()


def test_the_api_offers_exactly_the_steps_the_service_takes():
    assert set(MacroActions.model_fields["case_step"].annotation.__args__[0].__args__) == set(
        macros.STEPS
    )


def test_a_macro_applies_its_actions_with_audit_and_returns_the_filled_text(
    db, library, client_for
):
    group, other = factories.make_group(db, "售后组"), factories.make_group(db, "投诉处理组")
    supervisor = factories.make_user(db, role="supervisor", groups=[group])
    agent = factories.make_user(db, role="agent", groups=[group, other], name="王磊")
    boss, agent_api = client_for(supervisor), client_for(agent)
    script_id = db.scalar(select(Script.id).where(Script.key == "kefu.retail.shipping-query.1"))
    made = boss.post("/api/v1/macros", json={"name": "催发货并挂起", "script_id": script_id, "actions": {
        "status": "pending", "priority": "P2", "group_id": other.id, "tags_add": ["催发货"],
        "tags_remove": ["待查"]}})  # fmt: skip
    assert made.status_code == 201, made.text
    db.rollback()  # a fresh snapshot before writing: the server wrote since
    ticket = factories.make_ticket(
        db, group=group, tags=["待查", "老客户"], text="SL20240001发货了吗"
    )
    applied = agent_api.post(f"/api/v1/tickets/{ticket.id}/macros/{made.json()['id']}")
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert (result["ticket"]["status"], result["ticket"]["priority"], result["ticket"]["group_id"]) == (
        "pending", "P2", other.id)  # fmt: skip
    assert result["ticket"]["tags"] == ["催发货", "老客户"]
    assert "SL20240001" in result["text"] and result["script_id"] == script_id
    assert {u["name"] for u in result["unfilled"]} == {"快递单号", "物流状态", "处理时限"}
    db.rollback()
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
                         .order_by(AuditEvent.id)).all()  # fmt: skip
    assert actions[-2:] == ["ticket.update", "macro.apply"]
    update = db.scalar(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id,
                                                AuditEvent.action == "ticket.update"))  # fmt: skip
    assert update.actor_id == agent.id and update.after["status"] == "pending"


def test_a_complaint_macro_takes_a_case_step_and_a_refused_step_changes_nothing(
    db, library, client_for, api
):
    group = factories.make_group(db, "投诉处理组")
    agent_api = client_for(factories.make_user(db, role="agent", groups=[group]))
    waiting = api.post("/api/v1/macros", json={"name": "等客户补充", "actions": {
        "case_step": "wait_customer", "tags_add": ["待补充"]}}).json()  # fmt: skip
    advance = api.post("/api/v1/macros", json={"name": "进入下一步", "actions": {
        "case_step": "advance", "priority": "P1"}}).json()  # fmt: skip
    ticket = factories.make_ticket(db, group=group, intent="complaint", category="quality",
                                   text="杯子裂了")  # fmt: skip
    done = agent_api.post(f"/api/v1/tickets/{ticket.id}/macros/{waiting['id']}")
    assert done.status_code == 200, done.text
    assert (done.json()["ticket"]["waiting_on"], done.json()["text"]) == ("customer", "")
    refused = agent_api.post(f"/api/v1/tickets/{ticket.id}/macros/{advance['id']}")
    assert refused.status_code == 409, refused.text
    after = api.get(f"/api/v1/tickets/{ticket.id}").json()
    assert after["priority"] != "P1" and after["stage"] == "registered"  # nothing half-applied


def test_macros_are_managed_by_supervisors_and_checked(db, library, client_for, api):
    agent_api = client_for(factories.make_user(db, role="agent"))
    api_error(agent_api.post("/api/v1/macros", json={"name": "x"}), 403, "forbidden")
    api_error(api.post("/api/v1/macros", json={"name": "x", "actions": {"case_step": "archive"}}),
              422, "validation_error")  # fmt: skip
    api_error(api.post("/api/v1/macros", json={"name": "x", "script_id": 999999}), 404, "not_found")
    made = api.post("/api/v1/macros", json={"name": "关闭"})
    assert made.status_code == 201
    api_error(api.post("/api/v1/macros", json={"name": "关闭"}), 409, "name_taken")
    changed = api.patch(
        f"/api/v1/macros/{made.json()['id']}", json={"actions": {"status": "resolved"}}
    )
    assert changed.json()["actions"] == {"status": "resolved"}
    assert [m["name"] for m in agent_api.get("/api/v1/macros").json()] == ["关闭"]
    assert api.delete(f"/api/v1/macros/{made.json()['id']}").status_code == 204
    api_error(api.delete(f"/api/v1/macros/{made.json()['id']}"), 404, "not_found")
    db.rollback()
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "macro")
                       .order_by(AuditEvent.id)).all()  # fmt: skip
    assert trail == ["macro.create", "macro.update", "macro.delete"]


def test_a_macro_whose_script_was_retired_still_applies_its_actions(db, library, client_for, api):
    group = factories.make_group(db, "售后组")
    agent_api = client_for(factories.make_user(db, role="agent", groups=[group]))
    script_id = db.scalar(select(Script.id).where(Script.key == "kefu.retail.shipping-query.1"))
    macro = api.post("/api/v1/macros", json={"name": "标记", "script_id": script_id,
                                             "actions": {"tags_add": ["已查"]}}).json()  # fmt: skip
    api.patch(f"/api/v1/scripts/{script_id}", json={"status": "retired"})
    db.rollback()
    ticket = factories.make_ticket(db, group=group)
    applied = agent_api.post(f"/api/v1/tickets/{ticket.id}/macros/{macro['id']}").json()
    assert (applied["ticket"]["tags"], applied["script_id"], applied["text"]) == (
        ["已查"],
        None,
        "",
    )
