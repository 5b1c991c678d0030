"""/api/v1/routing/rules: admins set the rules and their order; bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import AuditEvent
from tests import factories


def test_admin_adds_changes_orders_and_deletes_rules(api, db):
    vip_group = factories.make_group(db, name="VIP组")
    after_sale = factories.make_group(db, name="售后组")
    first = api.post(
        "/api/v1/routing/rules",
        json={
            "name": "售后服务",
            "group_id": after_sale.id,
            "conditions": {"categories": ["logistics"]},
        },
    )
    assert first.status_code == 201, first.text
    vip = api.post(
        "/api/v1/routing/rules",
        json={
            "name": "VIP 客户",
            "group_id": vip_group.id,
            "notify_supervisor": True,
            "conditions": {
                "customer_tags": ["VIP"],
                "business_hours": False,
                "priorities": ["P2", "P1"],
            },
        },
    ).json()
    assert vip["position"] > first.json()["position"]
    assert vip["conditions"] == {
        "customer_tags": ["VIP"],
        "priorities": ["P1", "P2"],
        "business_hours": False,
    }

    order = api.put("/api/v1/routing/rules/order", json={"ids": [vip["id"], first.json()["id"]]})
    assert order.status_code == 200 and [r["name"] for r in order.json()] == [
        "VIP 客户",
        "售后服务",
    ]
    assert [r["id"] for r in api.get("/api/v1/routing/rules").json()] == [
        vip["id"],
        first.json()["id"],
    ]

    changed = api.patch(
        f"/api/v1/routing/rules/{vip['id']}", json={"enabled": False, "name": "VIP（夜间）"}
    )
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert api.delete(f"/api/v1/routing/rules/{first.json()['id']}").status_code == 204
    assert [r["name"] for r in api.get("/api/v1/routing/rules").json()] == ["VIP（夜间）"]
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "routing_rule")
    ).all()
    assert sorted(set(actions)) == [
        "routing_rule.create",
        "routing_rule.delete",
        "routing_rule.reorder",
        "routing_rule.update",
    ]


def test_bad_rules_and_orders_are_refused_and_change_nothing(api, db):
    group = factories.make_group(db)
    rule = api.post("/api/v1/routing/rules", json={"name": "r", "group_id": group.id}).json()
    for body, status, code in (
        (
            {"name": "x", "group_id": group.id, "conditions": {"colour": ["red"]}},
            422,
            "invalid_conditions",
        ),
        (
            {"name": "x", "group_id": group.id, "conditions": {"channels": "email"}},
            422,
            "invalid_conditions",
        ),
        ({"name": "x", "group_id": 999_999}, 404, "not_found"),
        ({"name": "", "group_id": group.id}, 422, "validation_error"),
        ({"name": "x", "group_id": group.id, "extra": 1}, 422, "validation_error"),
    ):
        answer = api.post("/api/v1/routing/rules", json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
    for ids in ([], [rule["id"], rule["id"]], [rule["id"], 999_999]):
        answer = api.put("/api/v1/routing/rules/order", json={"ids": ids})
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_rule_order")
    assert (
        api.patch(f"/api/v1/routing/rules/{rule['id']}", json={"enabled": None}).status_code == 422
    )
    assert api.patch("/api/v1/routing/rules/999999", json={"enabled": False}).status_code == 404
    assert api.get("/api/v1/routing/rules").json() == [rule]


def test_only_admins_change_rules(client_for, db):
    group = factories.make_group(db)
    agent = client_for(factories.make_user(db, groups=[group]))
    assert agent.get("/api/v1/routing/rules").status_code == 200
    assert (
        agent.post("/api/v1/routing/rules", json={"name": "x", "group_id": group.id}).status_code
        == 403
    )
    assert agent.put("/api/v1/routing/rules/order", json={"ids": []}).status_code == 403
