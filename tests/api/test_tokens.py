"""/api/v1/tokens: personal API tokens (secret shown once, stored hashed, revocable)."""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy import select

from kefu.db.models import ApiToken, AuditEvent
from tests import factories
from tests.checks import api_error as _error


def _bearer(server: str, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server, timeout=30, headers={"Authorization": f"Bearer {secret}"})


def test_create_returns_the_secret_once_and_lists_only_the_prefix(client_for, server, db):
    agent = factories.make_user(db)
    client = client_for(agent)
    response = client.post("/api/v1/tokens", json={"name": "ERP 集成"})
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["token"]
    assert secret.startswith("kefu_") and len(secret) >= 40
    assert created["prefix"] == secret[:12]
    assert (
        created["user_id"],
        created["name"],
        created["revoked_at"],
        created["last_used_at"],
    ) == (agent.id, "ERP 集成", None, None)

    listed = client.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert secret not in listed.text
    mine = [t for t in listed.json() if t["id"] == created["id"]]
    assert mine == [{k: v for k, v in created.items() if k != "token"}]
    assert all("token" not in t and "token_hash" not in t for t in listed.json())
    assert {t["user_id"] for t in listed.json()} == {agent.id}

    with _bearer(server, secret) as integration:
        me = integration.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["id"] == agent.id


def test_token_name_is_validated(api):
    _error(api.post("/api/v1/tokens", json={"name": ""}), 422, "validation_error")
    _error(api.post("/api/v1/tokens", json={"name": "x" * 101}), 422, "validation_error")
    _error(api.post("/api/v1/tokens", json={"name": "ok", "scope": "all"}), 422, "validation_error")


def test_revoked_token_gets_401_right_after(client_for, server, db):
    agent = factories.make_user(db)
    client = client_for(agent)
    created = client.post("/api/v1/tokens", json={"name": "短期"}).json()
    with _bearer(server, created["token"]) as integration:
        assert integration.get("/api/v1/tickets").status_code == 200
        assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
        _error(integration.get("/api/v1/tickets"), 401, "not_authenticated")
        _error(
            integration.post(
                "/api/v1/inbound",
                json={"external_id": "m", "sender": {"external_id": "s"}, "text": "hi"},
            ),
            401,
            "not_authenticated",
        )

    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()}
    revoked_at = listed[created["id"]]["revoked_at"]
    assert revoked_at is not None
    # Revoking again changes nothing and records nothing more.
    assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert {t["id"]: t for t in client.get("/api/v1/tokens").json()}[created["id"]][
        "revoked_at"
    ] == revoked_at
    db.rollback()
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "token.revoke", AuditEvent.object_id == created["id"]
        )
    ).all()
    assert len(events) == 1 and events[0].actor_id == agent.id
    # The caller's own token is untouched.
    assert client.get("/api/v1/auth/me").status_code == 200


def test_a_token_can_revoke_itself(server, client_for, db):
    agent = factories.make_user(db)
    created = client_for(agent).post("/api/v1/tokens", json={"name": "自毁"}).json()
    with _bearer(server, created["token"]) as itself:
        assert itself.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
        _error(itself.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_user_cannot_revoke_another_users_token_but_admin_can(api, client_for, server, db):
    alice, bob = factories.make_user(db), factories.make_user(db)
    alices = client_for(alice).post("/api/v1/tokens", json={"name": "alice 的集成"}).json()
    bobs_client = client_for(bob)

    refused = bobs_client.delete(f"/api/v1/tokens/{alices['id']}")
    error = _error(refused, 404, "not_found")
    assert error["message"] == "令牌不存在或无权访问"
    assert (
        bobs_client.delete("/api/v1/tokens/987654").json() == refused.json()
    )  # no hint that it exists
    assert alices["id"] not in [t["id"] for t in bobs_client.get("/api/v1/tokens").json()]
    assert alices["id"] not in [
        t["id"] for t in bobs_client.get("/api/v1/tokens", params={"user_id": alice.id}).json()
    ]
    with _bearer(server, alices["token"]) as integration:
        assert integration.get("/api/v1/auth/me").status_code == 200

        assert api.delete(f"/api/v1/tokens/{alices['id']}").status_code == 204
        _error(integration.get("/api/v1/auth/me"), 401, "not_authenticated")
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "token.revoke", AuditEvent.object_id == alices["id"]
        )
    )
    assert event.actor_id != alice.id


def test_admin_lists_and_creates_tokens_of_others(api, client_for, server, db, admin):
    agent = factories.make_user(db)
    _error(
        client_for(agent).post("/api/v1/tokens", json={"name": "冒充", "user_id": admin.id}),
        403,
        "forbidden",
    )

    created = api.post("/api/v1/tokens", json={"name": "代建", "user_id": agent.id})
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == agent.id
    with _bearer(server, created.json()["token"]) as integration:
        assert integration.get("/api/v1/auth/me").json()["id"] == agent.id
    of_agent = api.get("/api/v1/tokens", params={"user_id": agent.id}).json()
    assert {t["user_id"] for t in of_agent} == {agent.id}
    assert created.json()["id"] in [t["id"] for t in of_agent]
    assert {t["user_id"] for t in api.get("/api/v1/tokens").json()} >= {agent.id, admin.id}
    _error(api.post("/api/v1/tokens", json={"name": "无主", "user_id": 4242}), 404, "not_found")


def test_token_is_stored_only_as_a_hash(client_for, server, db):
    agent = factories.make_user(db)
    created = client_for(agent).post("/api/v1/tokens", json={"name": "哈希"}).json()
    secret = created["token"]
    db.rollback()
    row = db.get(ApiToken, created["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    columns = {c.key: getattr(row, c.key) for c in ApiToken.__table__.columns}
    assert all(secret not in str(value) for value in columns.values())
    assert len(row.prefix) == 12 and secret.startswith(row.prefix)
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "api_token", AuditEvent.object_id == row.id
        )
    ).all()
    assert [e.action for e in events] == ["token.create"]
    assert secret not in str(events[0].after)
    # Knowing the stored prefix (or all but one character) is not enough.
    for guess in (row.prefix, secret[:-1] + ("A" if secret[-1] != "A" else "B"), row.token_hash):
        with _bearer(server, guess) as client:
            _error(client.get("/api/v1/auth/me"), 401, "not_authenticated")
