"""Integrations: their own tokens for /api/v1/inbound, scoped to channels; staff tokens refused there."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import func, select

from kefu.db.models import AuditEvent, InboundPayload, Integration, Message, Ticket
from tests import factories
from tests.checks import api_error as _error


def _payload(external_id: str = "int-1", channel: str = "api", **extra):
    return {
        "channel": channel,
        "external_id": external_id,
        "sender": {"external_id": "buyer-1", "name": "王小明"},
        "text": "我的快递五天了还没到",
        **extra,
    }


def _bearer(server: str, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server, timeout=30, headers={"Authorization": f"Bearer {secret}"})


def _counts(db) -> list[int]:
    db.rollback()  # end the read snapshot to see what the server committed
    return [
        db.scalar(select(func.count()).select_from(m))
        for m in (Message, Ticket, InboundPayload, AuditEvent)
    ]


# --- who may post customer messages ---------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_a_staff_token_cannot_post_a_customer_message(role, client_for, db):
    """An agent's token once wrote "customer" messages into tickets she cannot see."""
    hidden = factories.make_group(db, name="投诉处理组")
    customer = factories.make_customer(db, identities=[("api", "buyer-1")])
    ticket = factories.make_ticket(db, customer=customer, group=hidden, channel="api")
    staff = client_for(factories.make_user(db, role=role))
    before = _counts(db)

    _error(
        staff.post(
            "/api/v1/inbound",
            json=_payload(text="我要找律师起诉你们", ticket_id=ticket.id),
        ),
        403,
        "integration_required",
    )
    assert _counts(db) == before
    db.rollback()
    assert db.get(Ticket, ticket.id).priority != "P1"


def test_a_session_cannot_post_a_customer_message(anon, admin):
    login = anon.post(
        "/api/v1/auth/login", json={"email": "admin@example.cn", "password": factories.PASSWORD}
    )
    response = anon.post(
        "/api/v1/inbound", json=_payload(), headers={"X-CSRF-Token": login.json()["csrf_token"]}
    )
    _error(response, 403, "integration_required")


def test_an_integration_posts_and_the_trail_names_it(integration, api, db):
    response = integration.post("/api/v1/inbound", json=_payload())
    assert response.status_code == 201, response.text
    body = response.json()
    db.rollback()
    row = db.scalar(select(Integration).where(Integration.name == "测试集成"))
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == body["ticket_id"]).order_by(AuditEvent.id)
    ).all()
    assert events and {(e.actor_type, e.actor_id, e.via) for e in events} == {
        ("integration", row.id, "integration")
    }
    payload = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "int-1"))
    assert payload.integration_id == row.id
    # A person reading the audit or the timeline sees which integration it was.
    audit = api.get(f"/api/v1/tickets/{body['ticket_id']}/audit").json()
    assert {e["actor_name"] for e in audit} == {"集成「测试集成」"}
    timeline = api.get(f"/api/v1/tickets/{body['ticket_id']}/timeline").json()
    assert {e["actor_name"] for e in timeline if e["kind"] == "event"} == {"集成「测试集成」"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/tickets"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/customers"),
        ("POST", "/api/v1/tokens"),
        ("GET", "/api/v1/integrations"),
    ],
)
def test_an_integration_token_opens_nothing_but_intake(method, path, integration):
    _error(integration.request(method, path, json={"name": "x"}), 403, "staff_required")


def test_a_channel_outside_the_integrations_scope_is_403(server, db):
    secret = factories.make_integration(db, name="邮件网关", channels=["email"])
    with _bearer(server, secret) as mail:
        before = _counts(db)
        _error(
            mail.post("/api/v1/inbound", json=_payload(channel="wechat")),
            403,
            "channel_not_allowed",
        )
        assert _counts(db) == before
        assert mail.post("/api/v1/inbound", json=_payload(channel="email")).status_code == 201


def test_redelivery_through_another_integration_reveals_nothing(server, integration, db):
    first = integration.post("/api/v1/inbound", json=_payload("shared-1"))
    assert first.status_code == 201
    # The same integration gets its ids back (idempotent).
    again = integration.post("/api/v1/inbound", json=_payload("shared-1"))
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}

    other = factories.make_integration(db, name="另一个集成", channels=["api"])
    with _bearer(server, other) as intruder:
        before = _counts(db)
        error = _error(
            intruder.post("/api/v1/inbound", json=_payload("shared-1")), 409, "duplicate_delivery"
        )
        assert str(first.json()["ticket_id"]) not in str(error)
        assert _counts(db) == before


# --- administration ---------------------------------------------------------------------------


def test_admin_creates_lists_changes_and_revokes_an_integration(api, server, db, admin):
    created = api.post("/api/v1/integrations", json={"name": "微信公众号", "channels": ["wechat"]})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body.pop("token")
    assert secret.startswith("kefu_int_") and body["channels"] == ["wechat"]
    db.rollback()
    row = db.get(Integration, body["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(api.get("/api/v1/integrations").json())
    assert [i["name"] for i in api.get("/api/v1/integrations").json()] == ["微信公众号"]
    _error(
        api.post("/api/v1/integrations", json={"name": "微信公众号", "channels": ["api"]}),
        409,
        "name_taken",
    )

    with _bearer(server, secret) as wechat:
        _error(wechat.post("/api/v1/inbound", json=_payload("w-1")), 403, "channel_not_allowed")
        changed = api.patch(
            f"/api/v1/integrations/{body['id']}", json={"channels": ["api", "wechat"]}
        )
        assert changed.status_code == 200 and changed.json()["channels"] == ["api", "wechat"]
        assert wechat.post("/api/v1/inbound", json=_payload("w-1")).status_code == 201

        assert api.delete(f"/api/v1/integrations/{body['id']}").status_code == 204
        _error(wechat.post("/api/v1/inbound", json=_payload("w-2")), 401, "not_authenticated")

    db.rollback()
    actions = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "integration", AuditEvent.object_id == body["id"])
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["integration.create", "integration.update", "integration.revoke"]
    assert secret not in str(db.scalars(select(AuditEvent.after)).all())


@pytest.mark.parametrize("role", ["agent", "specialist", "supervisor"])
def test_only_admins_manage_integrations(role, client_for, db):
    staff = client_for(factories.make_user(db, role=role))
    _error(staff.get("/api/v1/integrations"), 403, "forbidden")
    _error(
        staff.post("/api/v1/integrations", json={"name": "x", "channels": ["api"]}),
        403,
        "forbidden",
    )
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Integration)) == 0


def test_integration_body_is_validated(api):
    for body in (
        {"name": "", "channels": ["api"]},
        {"name": "x", "channels": []},
        {"name": "x", "channels": ["fax"]},
        {"name": "x"},
    ):
        _error(api.post("/api/v1/integrations", json=body), 422, "validation_error")
