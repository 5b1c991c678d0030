"""Standard Webhooks both ways (channels/webhook.py): verifying what sources post, checked against
the ``standardwebhooks`` library as the peer, and posting kefu's events to a real receiver on
loopback — signed verifiably, what each answer means, no redirect followed, addresses checked."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from kefu.channels.base import DeliveryFailed, OutboundDelivery
from kefu.channels.webhook import WebhookAdapter, WebhookRefused, verify
from kefu.db.engine import make_session_factory
from kefu.db.models import WebhookSubscription
from kefu.domain.outbound_urls import AllowList
from kefu.domain.webhooks import new_secret
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import seal
from tests.callback_receiver import Answer, CallbackReceiver

SECRET_KEY = "test-secret-key-for-sealing"
BODY = b'{"type":"sms.received","timestamp":null,"data":{"id":"1"}}'


def _signed(secret: str, body: bytes = BODY, *, at: float | None = None, msg_id: str = "msg_1"):
    sent = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent, body),
    }


def test_a_request_signed_by_the_library_is_verified():
    secret = new_secret()
    assert verify(secret, BODY, _signed(secret), tolerance_seconds=300, now=time.time()) == "msg_1"


def test_several_signatures_are_allowed_while_a_sender_rotates():
    old, new = new_secret(), new_secret()
    headers = _signed(new)
    other = _signed(old)["webhook-signature"]
    headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
    assert verify(new, BODY, headers, tolerance_seconds=300, now=time.time()) == "msg_1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, s: {**h, "webhook-signature": "v1,AAAA"}, "no matching signature found"),
        (lambda h, s: {k: v for k, v in h.items() if k != "webhook-signature"}, "missing headers"),
        (lambda h, s: {k: v for k, v in h.items() if k != "webhook-id"}, "missing headers"),
        (lambda h, s: {**h, "webhook-id": "msg_2"}, "no matching signature found"),  # id is signed
        (lambda h, s: _signed(new_secret()), "no matching signature found"),  # another secret
        (lambda h, s: {**h, "webhook-timestamp": "soon"}, "bad timestamp"),
    ],
)
def test_a_forged_or_incomplete_request_is_refused(change, reason):
    secret = new_secret()
    headers = change(_signed(secret), secret)
    with pytest.raises(WebhookRefused) as refused:
        verify(secret, BODY, headers, tolerance_seconds=300, now=time.time())
    assert refused.value.reason == reason


def test_a_changed_body_is_refused():
    secret = new_secret()
    with pytest.raises(WebhookRefused):
        verify(secret, BODY + b" ", _signed(secret), tolerance_seconds=300, now=time.time())


def test_stale_and_future_timestamps_are_refused_by_the_source_tolerance():
    secret = new_secret()
    now = time.time()
    stale = _signed(secret, at=now - 61)
    future = _signed(secret, at=now + 61)
    for headers, reason in ((stale, "timestamp too old"), (future, "timestamp in the future")):
        with pytest.raises(WebhookRefused) as refused:
            verify(secret, BODY, headers, tolerance_seconds=60, now=now)
        assert refused.value.reason == reason
    assert verify(secret, BODY, _signed(secret, at=now - 50), tolerance_seconds=60, now=now)


# --- out -----------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    with CallbackReceiver() as running:
        yield running


def _subscription(db, url: str, secret: str) -> WebhookSubscription:
    made = WebhookSubscription(
        url=url,
        events=["ticket.created"],
        secret_sealed=seal(
            SECRET_KEY, secret, purpose=purpose_of(WebhookSubscription.secret_sealed)
        ),
        enabled=True,
    )
    db.add(made)
    db.commit()
    return made


LOOPBACK = AllowList.parse("127.0.0.1")  # the test receivers, over plain http
ANY_ADDRESS = AllowList.parse("0.0.0.0/0, ::/0")  # plain http anywhere: the address check is tested


def _adapter(engine, guard: OutboundGuard | None = None) -> WebhookAdapter:
    return WebhookAdapter(
        make_session_factory(engine),
        secret_key=SECRET_KEY,
        timeout=2,
        guard=guard or OutboundGuard(LOOPBACK, plain_http=LOOPBACK),
    )


def _delivery(subscription_id: int) -> OutboundDelivery:
    return OutboundDelivery(
        outbox_id=9, idempotency_key="whk-1-0123abcd", channel="webhook", kind="event",
        target={"subscription_id": subscription_id, "type": "ticket.created",
                "timestamp": "2026-12-07T10:00:00+00:00", "data": {"ticket_id": 5, "subject": "订单未发货"}},
        ticket_id=None, message_id=None, text="",
    )  # fmt: skip


def test_an_event_is_posted_signed_so_the_receiver_verifies_it_with_the_library(
    db, engine, receiver
):
    secret = new_secret()
    subscription = _subscription(db, receiver.url, secret)
    adapter = _adapter(engine)
    try:
        adapter.send(_delivery(subscription.id))
        adapter.send(_delivery(subscription.id))  # a second attempt: the same webhook-id
    finally:
        adapter.close()
    first, again = receiver.posts
    event = Webhook(secret).verify(first.raw, first.headers)
    assert event == {
        "type": "ticket.created",
        "timestamp": "2026-12-07T10:00:00+00:00",
        "data": {"ticket_id": 5, "subject": "订单未发货"},
    }
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == "whk-1-0123abcd"
    with pytest.raises(Exception):  # noqa: B017, PT011 - the library's own error
        Webhook(new_secret()).verify(first.raw, first.headers)


@pytest.mark.parametrize(
    ("status", "permanent"), [(500, False), (503, False), (429, False), (400, True), (302, True)]
)
def test_what_an_answer_means(db, engine, receiver, status, permanent):
    subscription = _subscription(db, receiver.url, new_secret())
    receiver.script = [Answer(status=status)]
    adapter = _adapter(engine)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            adapter.send(_delivery(subscription.id))
    finally:
        adapter.close()
    assert failed.value.permanent is permanent
    assert len(receiver.posts) == 1  # a redirect is not followed


def test_410_gone_switches_the_subscription_off(db, engine, receiver):
    subscription = _subscription(db, receiver.url, new_secret())
    receiver.script = [Answer(status=410)]
    adapter = _adapter(engine)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            adapter.send(_delivery(subscription.id))
        assert failed.value.permanent
        db.expire_all()
        found = db.get(WebhookSubscription, subscription.id)
        assert not found.enabled and "410" in (found.disabled_reason or "")
        with pytest.raises(DeliveryFailed, match="switched off"):
            adapter.send(_delivery(subscription.id))
    finally:
        adapter.close()
    assert len(receiver.posts) == 1


def test_a_name_that_now_resolves_to_a_private_address_is_not_called(db, engine, receiver):
    subscription = _subscription(db, "http://hooks.example.cn/kefu", new_secret())

    def rebinding(host: str, port: int) -> list:
        return [ipaddress.ip_address("10.0.0.7")]

    adapter = _adapter(engine, OutboundGuard(resolver=rebinding, plain_http=ANY_ADDRESS))
    try:
        with pytest.raises(DeliveryFailed) as failed:
            adapter.send(_delivery(subscription.id))
    finally:
        adapter.close()
    assert failed.value.permanent and "refused" in failed.value.reason
    assert receiver.posts == []
