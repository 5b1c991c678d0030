"""Custom ticket fields through the API: definitions (admins), values on tickets (PATCH merge,
inbound), validation, the audit trail, search, and the fields a case needs to be resolved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent
from tests import factories
from tests.checks import api_error


def _define(api, **body):
    response = api.post("/api/v1/ticket-fields", json={"type": "text", **body})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def shop_fields(api):
    return {
        "order_no": _define(api, key="order_no", label="订单号"),
        "amount": _define(api, key="amount", label="订单金额", type="number"),
        "promised": _define(api, key="promised", label="承诺送达", type="date"),
        "carrier": _define(
            api, key="carrier", label="快递公司", type="choice", options=["顺丰", "中通"]
        ),
    }


def test_admins_define_fields_and_staff_read_the_active_ones(api, client_for, db):
    group = factories.make_group(db, "售后")
    made = _define(api, key="order_no", label="订单号", group_ids=[group.id], required=True)
    assert made["group_ids"] == [group.id] and made["required"] and made["active"]
    retired = _define(api, key="old", label="旧字段")
    changed = api.patch(f"/api/v1/ticket-fields/{retired['id']}", json={"active": False})
    assert changed.json()["active"] is False
    agent = client_for(factories.make_user(db, groups=[group]))
    assert [f["key"] for f in agent.get("/api/v1/ticket-fields").json()] == ["order_no"]
    assert [f["key"] for f in api.get("/api/v1/ticket-fields").json()] == ["order_no", "old"]
    api_error(agent.post("/api/v1/ticket-fields", json={"key": "x", "label": "X", "type": "text"}),
              403, "forbidden")  # fmt: skip
    api_error(agent.patch(f"/api/v1/ticket-fields/{made['id']}", json={"label": "单号"}),
              403, "forbidden")  # fmt: skip
    db.rollback()
    trail = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "ticket_field")
                       .order_by(AuditEvent.id)).all()  # fmt: skip
    assert [(e.action, e.object_id) for e in trail] == [
        ("ticket_field.create", made["id"]), ("ticket_field.create", retired["id"]),
        ("ticket_field.update", retired["id"]),
    ]  # fmt: skip
    assert (trail[2].before, trail[2].after) == ({"active": True}, {"active": False})


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"key": "订单号", "label": "订单号", "type": "text"}, 422, "validation_error"),
        ({"key": "carrier", "label": "快递", "type": "choice", "options": []}, 422,
         "field_options_required"),
        ({"key": "x", "label": "X", "type": "color"}, 422, "validation_error"),
        ({"key": "x", "label": "X", "type": "text", "group_ids": [999999]}, 404, "not_found"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused(api, body, status, code):
    api_error(api.post("/api/v1/ticket-fields", json=body), status, code)


def test_a_key_or_label_is_taken_once(api):
    first = _define(api, key="order_no", label="订单号")
    api_error(api.post("/api/v1/ticket-fields", json={"key": "order_no", "label": "单号", "type": "text"}),
              409, "field_taken")  # fmt: skip
    other = _define(api, key="tracking_no", label="快递单号")
    error = api_error(
        api.patch(f"/api/v1/ticket-fields/{other['id']}", json={"label": "订单号"}),
        409, "field_taken",
    )  # fmt: skip
    assert error["details"] == {"field": "label"}
    assert first["id"] != other["id"]


def test_values_are_merged_checked_and_shown_in_the_detail(api, db, shop_fields):
    ticket = factories.make_ticket(db)
    url = f"/api/v1/tickets/{ticket.id}"
    first = api.patch(url, json={"fields": {"order_no": "ＳＯ２０２６", "amount": "１,２９９.５０",
                                            "promised": "2026年12月7日", "carrier": "順豐"}})  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json()["fields"] == {
        "order_no": "SO2026", "amount": "1299.5", "promised": "2026-12-07", "carrier": "顺丰",
    }  # fmt: skip
    second = api.patch(url, json={"fields": {"amount": None, "carrier": "中通"}})
    assert second.json()["fields"] == {"order_no": "SO2026", "promised": "2026-12-07",
                                       "carrier": "中通"}  # fmt: skip
    detail = api.get(url).json()
    assert detail["fields"]["carrier"] == "中通"
    assert detail["order_lookup"] == {
        "order_no": "SO2026", "state": "pending", "requested_at": detail["order_lookup"]["requested_at"],
        "fetched_at": None, "order": None, "error": None,
    }  # fmt: skip
    trail = [e for e in api.get(f"{url}/audit").json() if e["action"] == "ticket.fields"]
    assert [(e["before"], e["after"]) for e in trail] == [
        ({"order_no": None, "amount": None, "promised": None, "carrier": None},
         {"order_no": "SO2026", "amount": "1299.5", "promised": "2026-12-07", "carrier": "顺丰"}),
        ({"amount": "1299.5", "carrier": "顺丰"}, {"amount": None, "carrier": "中通"}),
    ]  # fmt: skip
    assert trail[0]["actor_name"] == "管理员"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"amount": "十二"}, "field_not_number", "amount"),
        ({"promised": "2026-02-30"}, "field_not_date", "promised"),
        ({"carrier": "韵达"}, "field_not_option", "carrier"),
        ({"order_no": 12}, "field_not_text", "order_no"),
        ({"nope": "x"}, "field_unknown_field", "nope"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_changes(
    api, db, shop_fields, fields, code, field
):
    ticket = factories.make_ticket(db)
    url = f"/api/v1/tickets/{ticket.id}"
    api.patch(url, json={"fields": {"order_no": "A1"}})
    error = api_error(api.patch(url, json={"fields": {"order_no": "B2", **fields}, "subject": "改"}),
                      422, code)  # fmt: skip
    assert error["details"]["field"] == field
    after = api.get(url).json()
    assert after["fields"] == {"order_no": "A1"} and after["subject"] != "改"


def test_fields_of_another_group_do_not_apply_to_its_tickets(api, db):
    ours, theirs = factories.make_group(db, "我们"), factories.make_group(db, "他们")
    _define(api, key="ours", label="我们的", group_ids=[ours.id])
    _define(api, key="theirs", label="他们的", group_ids=[theirs.id])
    ticket = factories.make_ticket(db, group=ours)
    url = f"/api/v1/tickets/{ticket.id}"
    assert api.patch(url, json={"fields": {"ours": "1"}}).status_code == 200
    api_error(api.patch(url, json={"fields": {"theirs": "1"}}), 422, "field_unknown_field")


def test_an_agent_cannot_set_fields_on_a_ticket_they_cannot_see(api, client_for, db, shop_fields):
    hidden = factories.make_ticket(db, group=factories.make_group(db, "别组"))
    agent = client_for(factories.make_user(db, groups=[factories.make_group(db, "本组")]))
    api_error(agent.patch(f"/api/v1/tickets/{hidden.id}", json={"fields": {"order_no": "X"}}),
              404, "not_found")  # fmt: skip
    api_error(agent.post(f"/api/v1/tickets/{hidden.id}/order-lookup"), 404, "not_found")


def test_a_required_field_blocks_resolving_until_it_has_a_value(api, db):
    _define(api, key="order_no", label="订单号", required=True)
    _define(api, key="tracking_no", label="快递单号", required=True)
    ticket = factories.make_ticket(db)
    url = f"/api/v1/tickets/{ticket.id}"
    error = api_error(api.patch(url, json={"status": "resolved"}), 422, "field_required")
    assert error["details"] == {"field": "order_no", "missing": ["order_no", "tracking_no"]}
    assert "订单号、快递单号" in error["message"]
    step = api.post(f"/api/v1/tickets/{ticket.id}/steps", json={"action": "resolve"})
    assert step.status_code in (409, 422), step.text  # the loop's own step is refused as well
    assert api.get(url).json()["status"] != "resolved"
    done = api.patch(url, json={"status": "resolved",
                                "fields": {"order_no": "SO1", "tracking_no": "SF1"}})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"


def test_an_order_number_in_a_field_is_found_by_search(api, db, shop_fields):
    ticket = factories.make_ticket(db, text="东西坏了", subject="东西坏了")
    factories.make_ticket(db, text="别的事情", subject="别的事情")
    api.patch(f"/api/v1/tickets/{ticket.id}", json={"fields": {"order_no": "SO2026120799"}})
    found = api.get("/api/v1/tickets", params={"q": "SO2026120799"}).json()["items"]
    assert [t["id"] for t in found] == [ticket.id]
    assert api.get("/api/v1/tickets", params={"q": "ＳＯ２０２６１２０７９９"}).json()["items"]


def test_an_integration_sends_fields_with_a_message(api, integration, db, shop_fields):
    posted = integration.post("/api/v1/inbound", json={
        "channel": "api", "external_id": "f-1", "sender": {"external_id": "buyer-9", "name": "李雷"},
        "text": "我的快递还没到", "fields": {"order_no": "SO2026120700001", "carrier": "顺丰"},
    })  # fmt: skip
    assert posted.status_code == 201, posted.text
    ticket = api.get(f"/api/v1/tickets/{posted.json()['ticket_id']}").json()
    assert ticket["fields"] == {"order_no": "SO2026120700001", "carrier": "顺丰"}
    assert ticket["order_lookup"]["state"] == "pending"
    trail = api.get(f"/api/v1/tickets/{ticket['id']}/audit").json()
    [event] = [e for e in trail if e["action"] == "ticket.fields"]
    assert event["actor_type"] == "integration" and event["after"]["order_no"] == "SO2026120700001"


def test_an_inbound_message_with_a_bad_field_is_refused_and_its_payload_kept(
    api, integration, db, shop_fields
):
    from sqlalchemy import select

    from kefu.db.models import InboundPayload

    body = {"channel": "api", "external_id": "f-2", "sender": {"external_id": "buyer-9"},
            "text": "查订单", "fields": {"amount": "很多"}}  # fmt: skip
    error = api_error(integration.post("/api/v1/inbound", json=body), 422, "field_not_number")
    assert error["details"]["field"] == "amount"
    db.rollback()
    payload = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "f-2"))
    assert payload is not None and "很多" in payload.payload and payload.error
    fixed = integration.post("/api/v1/inbound", json={**body, "fields": {"amount": "１２"}})
    assert fixed.status_code == 201, fixed.text
