"""/api/v1/customers/{id}/export and /erase: a customer's personal data through the API, for
their roles, audited; and the audit of every look at a customer's full profile."""

from __future__ import annotations

import base64

from sqlalchemy import select

from kefu.db.models import Attachment, AuditEvent, Customer, Message
from kefu.services.customers.personal_data import ERASED
from kefu.services.intake.attachments import blob_path
from tests import factories
from tests.checks import api_error

PHONE = "13812345678"
ID_CARD = "110101199003071234"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\1" * 40).decode()


def _customer(integration) -> tuple[int, int]:
    posted = integration.post("/api/v1/inbound", json={
        "channel": "web", "external_id": "pd-1",
        "sender": {"external_id": "pd-visitor", "name": "王芳", "phone": PHONE},
        "text": f"我的电话是{PHONE}，订单还没到",
        "attachments": [{"filename": "发票.png", "content_type": "image/png", "content_base64": PNG}],
    })  # fmt: skip
    assert posted.status_code == 201, posted.text
    return posted.json()["customer_id"], posted.json()["ticket_id"]


def test_a_supervisor_exports_json_and_the_report_and_each_is_audited(db, client_for, integration):
    customer_id, ticket_id = _customer(integration)
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    as_json = supervisor.get(f"/api/v1/customers/{customer_id}/export")
    assert as_json.status_code == 200, as_json.text
    data = as_json.json()
    assert data["customer"]["name"] == "王芳"
    [ticket] = data["tickets"]
    assert ticket["id"] == ticket_id and PHONE in ticket["messages"][0]["text"]
    assert ticket["messages"][0]["attachments"][0]["filename"] == "发票.png"

    report = supervisor.get(f"/api/v1/customers/{customer_id}/export", params={"format": "report"})
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/markdown")
    assert "attachment" in report.headers["content-disposition"]
    assert "个人信息副本" in report.text and PHONE in report.text and "发票.png" in report.text

    db.rollback()
    whats = db.scalars(
        select(AuditEvent.after).where(
            AuditEvent.action == "customer.access", AuditEvent.customer_id == customer_id
        )
    ).all()
    assert {"what": "export:json"} in whats and {"what": "export:report"} in whats


def test_agents_may_not_export_and_only_admins_erase(db, client_for, integration):
    customer_id, _ = _customer(integration)
    agent = client_for(factories.make_user(db, role="agent"))
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    assert agent.get(f"/api/v1/customers/{customer_id}/export").status_code == 403
    refused = supervisor.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "要求删除"})
    assert refused.status_code == 403
    db.rollback()
    assert db.get(Customer, customer_id).name == "王芳"


def test_an_admin_erases_with_a_reason_and_again_harmlessly(db, api, integration, settings):
    customer_id, _ = _customer(integration)
    missing = api.post(f"/api/v1/customers/{customer_id}/erase", json={})
    assert missing.status_code == 422
    blank = api.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "   "})
    api_error(blank, 422, "erasure_reason_required")

    db.rollback()
    stored = blob_path(settings.attachments_dir, db.scalar(select(Attachment.sha256)))
    assert stored.exists()
    done = api.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "客户书面申请"})
    assert done.status_code == 200, done.text
    assert done.json()["tickets"] == 1 and done.json()["attachments"] == 1
    again = api.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "客户书面申请"})
    assert again.status_code == 200 and again.json()["attachments"] == 0

    db.rollback()
    customer = db.get(Customer, customer_id)
    assert customer.name == ERASED and customer.phone is None
    attachment = db.scalar(select(Attachment))
    assert attachment.filename == ERASED and not stored.exists()
    assert api.get(f"/api/v1/attachments/{attachment.id}").status_code == 404
    assert api.get("/api/v1/customers", params={"q": PHONE}).json() == []
    assert api.get("/api/v1/search", params={"q": PHONE}).json()["items"] == []
    reasons = db.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "customer.erase")
    ).all()
    assert [r["reason"] for r in reasons] == ["客户书面申请", "客户书面申请"]


def test_looking_at_a_full_profile_is_audited(db, api, integration):
    customer_id, _ = _customer(integration)
    assert api.get(f"/api/v1/customers/{customer_id}").status_code == 200
    assert api.get(f"/api/v1/customers/{customer_id}/timeline").status_code == 200
    db.rollback()
    whats = db.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.action == "customer.access", AuditEvent.customer_id == customer_id)
        .order_by(AuditEvent.id)
    ).all()
    assert whats == [{"what": "api:profile"}, {"what": "api:timeline"}]


def test_an_agent_reads_the_numbers_masked_unless_asking_for_them_audited(db, client_for):
    group = factories.make_group(db, "脱敏组")
    agent = client_for(factories.make_user(db, role="agent", groups=[group]))
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    customer = factories.make_customer(
        db, name="周八", phone=PHONE, note=f"身份证 {ID_CARD}，退款卡 6222 0200 1234 5678",
        identities=[("phone", PHONE)],
    )  # fmt: skip
    factories.make_ticket(db, customer=customer, group=group)
    path = f"/api/v1/customers/{customer.id}"

    masked = agent.get(path).json()
    assert masked["phone"] == "138****5678"
    assert masked["note"] == "身份证 110101********1234，退款卡 ****5678"
    assert [i["external_id"] for i in masked["identities"]] == ["138****5678"]
    assert agent.get(path, params={"full": 1}).json()["phone"] == PHONE
    assert supervisor.get(path).json()["phone"] == PHONE  # supervisors read them in full
    db.rollback()
    whats = db.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.action == "customer.access", AuditEvent.customer_id == customer.id)
        .order_by(AuditEvent.id)
    ).all()
    assert whats == [{"what": "api:profile:full"}, {"what": "api:profile"}]  # masked: no record


def test_an_agent_reads_a_tickets_messages_masked_unless_asking_audited(db, client_for):
    group = factories.make_group(db, "脱敏消息组")
    agent = client_for(factories.make_user(db, role="agent", groups=[group]))
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    customer = factories.make_customer(db, name="吴九")
    text = f"电话{PHONE}，身份证{ID_CARD}，卡号6222020012345678"
    ticket = factories.make_ticket(db, customer=customer, group=group, text=text)
    path = f"/api/v1/tickets/{ticket.id}"

    [masked] = agent.get(path).json()["messages"]
    assert masked["body_text"] == "电话138****5678，身份证110101********1234，卡号****5678"
    assert agent.get(path, params={"full": 1}).json()["messages"][0]["body_text"] == text
    assert supervisor.get(path).json()["messages"][0]["body_text"] == text
    timeline = agent.get(f"/api/v1/customers/{customer.id}/timeline").json()
    assert timeline["tickets"][0]["messages"][0]["body_text"] == masked["body_text"]
    db.rollback()
    assert db.scalar(select(Message.body_text).where(Message.ticket_id == ticket.id)) == text
    whats = db.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.action == "customer.access", AuditEvent.customer_id == customer.id)
        .order_by(AuditEvent.id)
    ).all()
    # only the agent's asking is recorded: the supervisor's ticket read is routine work
    assert whats == [{"what": f"api:ticket:{ticket.id}:full"}]
