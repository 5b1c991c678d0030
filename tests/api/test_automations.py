"""/api/v1/automations: admins' triggers saved, checked, listed in order, changed and deleted."""

from __future__ import annotations

from kefu.db.models import AuditEvent
from tests import factories

TAG_VIP = {
    "on": "customer_message",
    "conditions": [{"field": "tags", "op": "has_tag", "values": ["VIP"]}],
    "actions": [{"type": "notify", "who": "supervisors", "message": "VIP 客户来信"}],
}
CLOSE_ALL = {
    "on": "time",
    "after": {"since": "resolved_at", "hours": 24},
    "actions": [{"type": "set_field", "field": "status", "value": "closed"}],
}


def test_an_admin_saves_lists_changes_and_deletes_a_trigger(api, db):
    made = api.post("/api/v1/automations", json={"name": "VIP 提醒", "definition": TAG_VIP})
    assert made.status_code == 201, made.text
    trigger = made.json()
    assert trigger["active"] is True and trigger["position"] == 1
    second = api.post("/api/v1/automations", json={"name": "第二条", "definition": TAG_VIP})
    assert second.json()["position"] == 2
    listed = api.get("/api/v1/automations").json()
    assert [t["name"] for t in listed] == ["VIP 提醒", "第二条"]

    changed = api.put(
        f"/api/v1/automations/{trigger['id']}",
        json={"name": "VIP 提醒", "definition": TAG_VIP, "active": False, "position": 5},
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert [t["name"] for t in api.get("/api/v1/automations").json()] == ["第二条", "VIP 提醒"]
    assert api.delete(f"/api/v1/automations/{trigger['id']}").status_code == 204
    assert api.delete(f"/api/v1/automations/{trigger['id']}").status_code == 404
    actions = {
        e.action
        for e in db.query(AuditEvent).filter(AuditEvent.object_type == "automation_trigger")
    }
    assert actions == {"automation.save", "automation.delete"}


def test_a_trigger_that_could_close_a_complaint_is_refused_with_a_clear_message(api):
    refused = api.post("/api/v1/automations", json={"name": "一律关闭", "definition": CLOSE_ALL})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "bad_trigger" and error["details"] == {"code": "steps_required"}
    assert "自动化规则无效" in error["message"] and "short path" in error["message"]
    limited = {**CLOSE_ALL, "conditions": [{"field": "path", "op": "is", "values": ["short"]}]}
    assert (
        api.post(
            "/api/v1/automations", json={"name": "短路径关闭", "definition": limited}
        ).status_code
        == 201
    )


def test_malformed_triggers_are_refused_not_crashed_on(api):
    for definition in (
        {"on": "never"},
        {"on": "created", "actions": [{"type": "launch"}]},
        {"on": "created", "actions": []},
        {"on": "created", "actions": [{"type": "set_field", "field": "stage", "value": "closed"}]},
        {"on": "time", "actions": [{"type": "tag", "tag": "x"}]},
        {"on": "time", "after": {"since": "created_at", "hours": 1e300}, "actions": [{"type": "tag", "tag": "x"}]},
        {"on": "created", "conditions": "abc", "actions": [{"type": "tag", "tag": "x"}]},
        {"on": "created", "conditions": [{"field": "secret", "op": "is", "values": ["1"]}], "actions": [{"type": "tag", "tag": "x"}]},
    ):  # fmt: skip
        answer = api.post("/api/v1/automations", json={"name": "坏规则", "definition": definition})
        assert answer.status_code == 422, (definition, answer.text)
        assert answer.json()["error"]["code"] == "bad_trigger"
    api.post("/api/v1/automations", json={"name": "同名", "definition": TAG_VIP})
    again = api.post("/api/v1/automations", json={"name": "同名", "definition": TAG_VIP})
    assert again.status_code == 409 and again.json()["error"]["code"] == "trigger_exists"


def test_only_admins_see_or_change_automations(client_for, db):
    for role in ("agent", "supervisor"):
        client = client_for(factories.make_user(db, role=role))
        assert client.get("/api/v1/automations").status_code == 403
        posted = client.post("/api/v1/automations", json={"name": "x", "definition": TAG_VIP})
        assert posted.status_code == 403


def test_an_admin_reads_and_changes_the_service_timing(api, db):
    assert api.get("/api/v1/automation-timing").json()["follow_up_days"] == 3
    changed = api.put(
        "/api/v1/automation-timing", json={"follow_up_days": 1, "vip_follow_up": False}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["follow_up_days"] == 1 and changed.json()["close_resolved_hours"] == 72
    refused = api.put("/api/v1/automation-timing", json={"nudge_hours": -1})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    assert api.get("/api/v1/automation-timing").json()["vip_follow_up"] is False
