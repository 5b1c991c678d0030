"""/api/v1/webchat/channels: admins manage the sites that embed the widget."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, WebchatChannel
from kefu.services.infra.secret_box import SecretUnreadable, unseal
from tests import factories


def test_an_admin_adds_a_channel_and_sees_its_secret_once(api, db):
    group = factories.make_group(db, "售前组")
    made = api.post(
        "/api/v1/webchat/channels",
        json={"name": "官网", "group_id": group.id, "greeting": "您好！",
              "allowed_origins": ["https://WWW.Example.cn/", "https://www.example.cn",
                                  "http://localhost:8080"]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"].startswith("wc_") and len(body["secret"]) >= 40
    assert body["allowed_origins"] == ["https://www.example.cn", "http://localhost:8080"]
    assert body["language"] == "zh-CN" and body["offline_form"] is True
    shown = api.get(f"/api/v1/webchat/channels/{body['id']}").json()
    assert "secret" not in shown and shown["key"] == body["key"]
    assert all("secret" not in c for c in api.get("/api/v1/webchat/channels").json())
    trail = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "webchat_channel.create")
    ).one()
    assert body["secret"] not in str(trail.after)


def test_settings_change_and_bad_origins_are_refused(api, db):
    channel = factories.make_webchat_channel(db)
    url = f"/api/v1/webchat/channels/{channel.id}"
    changed = api.patch(url, json={"greeting": "欢迎光临", "language": "en", "group_id": None})
    assert changed.status_code == 200 and changed.json()["greeting"] == "欢迎光临"
    for origin in ("https://shop.cn/path", "javascript:alert(1)", "https://*.shop.cn",
                   "https://user@shop.cn", "shop.cn", "https://shop.cn:99999"):  # fmt: skip
        refused = api.patch(url, json={"allowed_origins": [origin]})
        assert refused.status_code == 422, origin
        assert refused.json()["error"]["code"] == "invalid_origin"
    assert api.patch(url, json={"group_id": 999999}).status_code == 404
    assert api.patch(url, json={"name": None}).status_code == 422


def test_the_secret_can_be_replaced_and_the_channel_removed(api, db):
    channel = factories.make_webchat_channel(db)
    old = factories.channel_secret(channel)
    rotated = api.post(f"/api/v1/webchat/channels/{channel.id}/secret").json()
    assert rotated["secret"] != old
    db.expire_all()
    stored = db.get(WebchatChannel, channel.id).secret_sealed
    assert stored.startswith("v2:") and rotated["secret"] not in stored  # sealed, not as it is
    assert factories.channel_secret(db.get(WebchatChannel, channel.id)) == rotated["secret"]
    assert rotated["secret"] not in api.get(f"/api/v1/webchat/channels/{channel.id}").text
    assert api.delete(f"/api/v1/webchat/channels/{channel.id}").status_code == 204
    assert api.get(f"/api/v1/webchat/channels/{channel.id}").status_code == 404


def test_only_admins_manage_channels(db, client_for):
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    assert supervisor.get("/api/v1/webchat/channels").status_code == 403
    assert supervisor.post("/api/v1/webchat/channels", json={"name": "x"}).status_code == 403


def test_the_secret_is_stored_sealed_and_opens_to_the_one_shown(api, db):
    body = api.post("/api/v1/webchat/channels", json={"name": "密封"}).json()
    stored = db.scalar(select(WebchatChannel.secret_sealed).where(WebchatChannel.id == body["id"]))
    assert stored.startswith("v2:") and body["secret"] not in stored
    purpose = "webchat_channels.secret_sealed"
    assert unseal(factories.SECRET_KEY, stored, purpose=purpose) == body["secret"]
    with pytest.raises(SecretUnreadable):  # bound to its column: not opened as another secret
        unseal(factories.SECRET_KEY, stored, purpose="integrations.callback_secret_sealed")
