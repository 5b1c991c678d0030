"""Every write leaves an AuditEvent: the trail of one ticket through its life."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import AuditEvent
from tests import factories


def test_trail_after_create_assign_reply_merge(db, api, admin):
    group = factories.make_group(db, "售后组")
    agent = factories.make_user(db, groups=[group])
    duplicate = factories.make_customer(
        db, name="王先生（微信）", identities=[("wechat", "o-wang")]
    )
    original = factories.make_customer(db, name="王先生", identities=[("email", "wang@example.cn")])

    created = api.post(
        "/api/v1/tickets",
        json={"customer_id": duplicate.id, "text": "洗衣机漏水", "group_id": group.id},
    ).json()
    url = f"/api/v1/tickets/{created['id']}"
    api.post(f"{url}/assign", json={"assignee_id": agent.id})
    api.post(f"{url}/messages", json={"text": "您好，马上安排师傅上门"})
    api.patch(url, json={"priority": "P2"})
    merge = api.post(
        f"/api/v1/customers/{original.id}/merge", json={"source_id": duplicate.id}
    ).json()

    trail = api.get(f"{url}/audit").json()
    assert [e["action"] for e in trail] == [
        "ticket.create", "ticket.update", "ticket.reply", "ticket.update", "ticket.customer_merge",
    ]  # fmt: skip
    assert all(e["actor_id"] == admin.id and e["via"] == "token" for e in trail)
    create, assign, reply, priority, merged = trail
    assert (
        create["after"]["customer_id"] == duplicate.id and create["after"]["group_id"] == group.id
    )
    assert (assign["before"], assign["after"]) == ({"assignee_id": None}, {"assignee_id": agent.id})
    assert reply["after"]["direction"] == "outbound" and reply["before"] == {"status": "new"}
    assert (priority["before"], priority["after"]) == ({"priority": "P4"}, {"priority": "P2"})
    assert merged["before"] == {"customer_id": duplicate.id}
    assert merged["after"] == {"customer_id": original.id, "merge_id": merge["id"]}
    assert all(e["created_at"] for e in trail)


def test_failed_write_leaves_no_audit_event(db, api):
    ticket = factories.make_ticket(db)
    before = len(db.scalars(select(AuditEvent)).all())
    response = api.patch(
        f"/api/v1/tickets/{ticket.id}", json={"priority": "P1", "group_id": 999999}
    )
    assert response.status_code == 404
    db.rollback()
    assert len(db.scalars(select(AuditEvent)).all()) == before
    assert api.get(f"/api/v1/tickets/{ticket.id}").json()["priority"] == "P4"


def test_no_change_no_event(db, api):
    ticket = factories.make_ticket(db)
    api.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "P4"})
    assert [e["action"] for e in api.get(f"/api/v1/tickets/{ticket.id}/audit").json()] == [
        "ticket.create"
    ]
