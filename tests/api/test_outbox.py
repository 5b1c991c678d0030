"""Replies to api-channel cases through the live server and its relay: posted to the integration's
callback, signed, exactly once; retries, dead letters and an admin's replay; receipts posted back;
the callback set through the integrations API; the delivery state on messages and the timeline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent
from tests import factories
from tests.callback_receiver import Answer, CallbackReceiver
from tests.checks import api_error


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def shop(server, api, receiver) -> Iterator[httpx.Client]:
    """A marketplace shop's chat bridge: an integration with a callback, set up through the API;
    yields its client (its token)."""
    created = api.post(
        "/api/v1/integrations",
        json={"name": "拼多多店铺", "channels": ["api"], "callback_url": receiver.url},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    receiver.secret = body["callback_secret"]
    with httpx.Client(
        base_url=server, timeout=30, headers={"Authorization": f"Bearer {body['token']}"}
    ) as client:
        yield client


def _conversation(shop: httpx.Client, external_id: str = "pdd-msg-1") -> dict:
    posted = shop.post(
        "/api/v1/inbound",
        json={
            "channel": "api",
            "external_id": external_id,
            "sender": {"external_id": "pdd-buyer-88", "name": "买家88"},
            "text": "我买的耳机一直没发货，怎么回事？",
        },
    )
    assert posted.status_code == 201, posted.text
    return posted.json()


def _reply(api: httpx.Client, ticket_id: int, text: str = "您好，已为您加急，今天发出。") -> dict:
    made = api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": text})
    assert made.status_code == 201, made.text
    return made.json()


def _delivery_state(api: httpx.Client, ticket_id: int, message_id: int) -> str | None:
    messages = api.get(f"/api/v1/tickets/{ticket_id}").json()["messages"]
    return next(m["delivery_state"] for m in messages if m["id"] == message_id)


def test_an_agent_reply_on_an_api_case_reaches_the_callback_signed_exactly_once(
    api, shop, receiver
):
    """Acceptance 7."""
    inbound = _conversation(shop)
    reply = _reply(api, inbound["ticket_id"])
    assert reply["delivery_state"] == "queued"

    receiver.wait_for(lambda: len(receiver.shown) == 1)
    receiver.wait_for(lambda: _delivery_state(api, inbound["ticket_id"], reply["id"]) == "sent")

    [post] = receiver.posts  # exactly once
    assert post.signature_ok
    assert post.body["text"] == "您好，已为您加急，今天发出。"
    assert (post.body["ticket_id"], post.body["message_id"]) == (inbound["ticket_id"], reply["id"])
    assert (post.body["in_reply_to"], post.body["customer_external_id"]) == (
        "pdd-msg-1",
        "pdd-buyer-88",
    )
    assert post.body["author"]["name"] == "管理员"
    timeline = api.get(f"/api/v1/tickets/{inbound['ticket_id']}/timeline").json()
    states = {e["message_id"]: e["delivery_state"] for e in timeline if e["kind"] == "message"}
    assert states == {inbound["message_id"]: None, reply["id"]: "sent"}


def test_a_note_never_reaches_the_callback(api, shop, receiver):
    inbound = _conversation(shop)
    note = api.post(
        f"/api/v1/tickets/{inbound['ticket_id']}/messages",
        json={"text": "内部：仓库说明天发", "internal": True},
    ).json()
    reply = _reply(api, inbound["ticket_id"])
    receiver.wait_for(lambda: len(receiver.shown) == 1)
    assert note["delivery_state"] is None
    assert [s["message_id"] for s in receiver.shown] == [reply["id"]]


def test_a_callback_failing_three_times_then_answering_delivers_once(api, shop, receiver):
    receiver.script = [Answer(503), Answer(502), Answer(504)]
    inbound = _conversation(shop)
    reply = _reply(api, inbound["ticket_id"])

    receiver.wait_for(lambda: _delivery_state(api, inbound["ticket_id"], reply["id"]) == "sent")

    assert len(receiver.posts) == 4 and len({p.key for p in receiver.posts}) == 1
    assert len(receiver.shown) == 1
    [entry] = api.get("/api/v1/outbox", params={"ticket_id": inbound["ticket_id"]}).json()["items"]
    assert (entry["state"], entry["attempts"], entry["message_id"]) == ("sent", 4, reply["id"])
    assert entry["last_error"].startswith("HTTP 504")


def test_dead_letters_are_listed_and_an_admin_replays_them(
    api, shop, receiver, client_for, db, integration
):
    receiver.script = [Answer(503)] * 5  # the test settings allow five attempts
    inbound = _conversation(shop)
    reply = _reply(api, inbound["ticket_id"])
    receiver.wait_for(lambda: _delivery_state(api, inbound["ticket_id"], reply["id"]) == "dead")

    dead = api.get("/api/v1/outbox", params={"state": "dead"}).json()
    [entry] = dead["items"]
    assert (entry["message_id"], entry["attempts"], entry["channel"]) == (reply["id"], 5, "api")
    assert entry["dead_at"] and entry["last_error"].startswith("HTTP 503")
    assert api.get("/api/v1/outbox", params={"state": "sent"}).json()["items"] == []
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    api_error(supervisor.get("/api/v1/outbox"), 403, "forbidden")
    api_error(supervisor.post(f"/api/v1/outbox/{entry['id']}/retry"), 403, "forbidden")
    api_error(integration.post(f"/api/v1/outbox/{entry['id']}/retry"), 403, "staff_required")

    retried = api.post(f"/api/v1/outbox/{entry['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
    receiver.wait_for(lambda: _delivery_state(api, inbound["ticket_id"], reply["id"]) == "sent")

    assert len(receiver.shown) == 1 and receiver.shown[0]["message_id"] == reply["id"]
    api_error(api.post(f"/api/v1/outbox/{entry['id']}/retry"), 409, "not_retryable")
    api_error(api.post("/api/v1/outbox/999999/retry"), 404, "not_found")
    timeline = api.get(f"/api/v1/tickets/{inbound['ticket_id']}/timeline").json()
    actions = [e["action"] for e in timeline if e["kind"] == "event"]
    assert "outbox.dead" in actions and "outbox.replay" in actions
    replay = db.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.replay"))
    assert replay.actor_type == "user"


def test_receipts_from_the_integration_move_the_reply_forward_only(api, shop, receiver, server):
    receiver.script = [Answer(200, {"external_ref": "pdd-reply-1"})]
    inbound = _conversation(shop)
    reply = _reply(api, inbound["ticket_id"])
    receiver.wait_for(lambda: _delivery_state(api, inbound["ticket_id"], reply["id"]) == "sent")
    key = receiver.posts[0].key

    read = shop.post("/api/v1/receipts", json={"external_ref": "pdd-reply-1", "state": "read"})
    assert read.status_code == 200, read.text
    assert read.json() == {
        "outbox_id": read.json()["outbox_id"],
        "message_id": reply["id"],
        "ticket_id": inbound["ticket_id"],
        "state": "read",
    }
    late = shop.post("/api/v1/receipts", json={"idempotency_key": key, "state": "delivered"})
    assert late.status_code == 200 and late.json()["state"] == "read"
    assert _delivery_state(api, inbound["ticket_id"], reply["id"]) == "read"

    api_error(
        shop.post("/api/v1/receipts", json={"idempotency_key": "kefu-1-nope", "state": "read"}),
        404,
        "not_found",
    )
    api_error(shop.post("/api/v1/receipts", json={"state": "read"}), 422, "validation_error")
    both = {"idempotency_key": key, "external_ref": "pdd-reply-1", "state": "read"}
    api_error(shop.post("/api/v1/receipts", json=both), 422, "validation_error")
    api_error(
        shop.post("/api/v1/receipts", json={"idempotency_key": key, "state": "sent"}),
        422,
        "validation_error",
    )
    api_error(
        api.post("/api/v1/receipts", json={"idempotency_key": key, "state": "read"}),
        403,
        "integration_required",
    )


def test_another_integration_cannot_post_receipts_for_this_ones_replies(
    api, shop, receiver, integration
):
    inbound = _conversation(shop)
    _reply(api, inbound["ticket_id"])
    receiver.wait_for(lambda: len(receiver.shown) == 1)
    key = receiver.posts[0].key
    api_error(
        integration.post("/api/v1/receipts", json={"idempotency_key": key, "state": "read"}),
        404,
        "not_found",
    )


# --- the callback, set through the integrations API --------------------------------------------


def test_the_callback_secret_is_shown_once_and_can_be_rotated_or_removed(api, db):
    created = api.post(
        "/api/v1/integrations",
        json={"name": "京东", "channels": ["api"], "callback_url": "https://jd.example.cn/cb"},
    ).json()
    secret = created["callback_secret"]
    assert secret.startswith("kefu_cb_") and created["callback_url"] == "https://jd.example.cn/cb"
    listed = api.get("/api/v1/integrations").json()
    assert [i["callback_url"] for i in listed] == ["https://jd.example.cn/cb"]
    assert "callback_secret" not in listed[0] and secret not in str(listed)

    moved = api.patch(
        f"/api/v1/integrations/{created['id']}", json={"callback_url": "https://jd.example.cn/v2"}
    ).json()
    assert moved["callback_url"] == "https://jd.example.cn/v2"
    assert moved["callback_secret"] is None  # the same secret, not shown again
    rotated = api.patch(
        f"/api/v1/integrations/{created['id']}", json={"rotate_callback_secret": True}
    ).json()
    assert rotated["callback_secret"] not in (None, secret)
    removed = api.patch(f"/api/v1/integrations/{created['id']}", json={"callback_url": None})
    assert removed.json()["callback_url"] is None
    api_error(
        api.patch(f"/api/v1/integrations/{created['id']}", json={"rotate_callback_secret": True}),
        400,
        "callback_url_required",
    )
    api_error(
        api.patch(f"/api/v1/integrations/{created['id']}", json={"name": None}),
        422,
        "validation_error",
    )
    trail = [
        e.after
        for e in db.scalars(select(AuditEvent).where(AuditEvent.object_type == "integration"))
    ]
    assert secret not in str(trail) and rotated["callback_secret"] not in str(trail)
    assert any("callback_secret_sha256" in (a or {}) for a in trail)  # the rotation is on record


@pytest.mark.parametrize(
    "url", ["ftp://jd.example.cn/cb", "jd.example.cn/cb", "https://", "https://jd .cn/cb"]
)
def test_a_callback_url_must_be_http_or_https(api, url):
    answer = api.post(
        "/api/v1/integrations", json={"name": "坏地址", "channels": ["api"], "callback_url": url}
    )
    api_error(answer, 422, "validation_error")


def test_messages_not_sent_out_have_no_delivery_state(api, db):
    ticket = factories.make_ticket(db, channel="phone")
    reply = _reply(api, ticket.id)
    detail = api.get(f"/api/v1/tickets/{ticket.id}").json()
    assert [m["delivery_state"] for m in detail["messages"]] == [None, None]
    assert reply["delivery_state"] is None
