"""The api channel's adapter against a real HTTP receiver: signed posts, and what each answer means."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from kefu.channels.api_callback import ApiCallbackAdapter
from kefu.channels.base import AttachmentRef, DeliveryFailed, OutboundDelivery
from kefu.db.engine import make_session_factory
from kefu.domain.delivery import DeliveryState
from kefu.services.actors import SYSTEM
from kefu.services.infra.secret_box import unseal
from kefu.services.intake import integrations
from tests import factories
from tests.callback_receiver import Answer, CallbackReceiver


@pytest.fixture
def receiver():
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def adapter(engine):
    made = ApiCallbackAdapter(
        make_session_factory(engine), secret_key=factories.SECRET_KEY, timeout=0.5
    )
    yield made
    made.close()


def _delivery(integration_id: int, **overrides) -> OutboundDelivery:
    values = dict(
        outbox_id=7,
        idempotency_key="kefu-42-abcdef",
        channel="api",
        kind="message",
        target={"integration_id": integration_id, "in_reply_to": "their-1", "customer_external_id": "buyer-9"},
        ticket_id=3,
        message_id=42,
        text="您好，<b>已为您补发</b>",
        html="<p>您好，&lt;b&gt;已为您补发&lt;/b&gt;</p>",
        author_name="客服小王",
        created_at=datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
        attachments=(AttachmentRef(5, "发票.pdf", "application/pdf", 1234),),
        attempt=2,
    )  # fmt: skip
    return OutboundDelivery(**{**values, **overrides})


def _pointed_at(db, receiver):
    integration = factories.make_callback_integration(db, receiver.url)
    receiver.secret = factories.callback_secret(integration)
    return integration


def test_a_reply_is_posted_signed_with_its_idempotency_key(db, adapter, receiver):
    integration = _pointed_at(db, receiver)

    result = adapter.send(_delivery(integration.id))

    assert result.state == DeliveryState.SENT and result.external_ref is None
    [post] = receiver.posts
    assert post.signature_ok  # checked as docs/callbacks.md says, over the exact body bytes
    assert post.key == "kefu-42-abcdef"
    assert post.headers["content-type"].startswith("application/json")
    assert post.body == {
        "type": "message", "version": 1, "idempotency_key": "kefu-42-abcdef", "outbox_id": 7,
        "attempt": 2, "ticket_id": 3, "message_id": 42, "in_reply_to": "their-1",
        "customer_external_id": "buyer-9", "text": "您好，<b>已为您补发</b>",
        "html": "<p>您好，&lt;b&gt;已为您补发&lt;/b&gt;</p>", "author": {"name": "客服小王"},
        "created_at": "2026-05-01T08:00:00+00:00",
        "attachments": [{"id": 5, "filename": "发票.pdf", "content_type": "application/pdf", "size": 1234}],
    }  # fmt: skip
    assert "您好".encode() in post.raw  # UTF-8, not \\u escapes


def test_the_secret_is_stored_sealed_and_opened_only_to_sign(db, engine, receiver):
    integration = _pointed_at(db, receiver)
    stored = integration.callback_secret_sealed
    assert stored.startswith("v2:") and receiver.secret not in stored
    assert unseal(factories.SECRET_KEY, stored, purpose="integrations.callback_secret_sealed") == (
        receiver.secret
    )
    other_key = ApiCallbackAdapter(make_session_factory(engine), secret_key="another-master-key")
    try:
        with pytest.raises(DeliveryFailed, match="cannot be opened") as failed:
            other_key.send(_delivery(integration.id))
    finally:
        other_key.close()
    assert failed.value.permanent and receiver.posts == []  # nothing sent unsigned or misigned


def test_a_signature_with_another_secret_or_another_body_does_not_verify(db, adapter, receiver):
    integration = _pointed_at(db, receiver)
    adapter.send(_delivery(integration.id))
    _, made = integrations.do_update_integration(
        db, SYSTEM, integration, {"rotate_callback_secret": True}, secret_key=factories.SECRET_KEY
    )
    db.commit()
    assert made and made != receiver.secret

    adapter.send(
        _delivery(integration.id, idempotency_key="kefu-43-abcdef")
    )  # signed with the new one

    assert [p.signature_ok for p in receiver.posts] == [True, False]
    receiver.secret = made
    assert receiver._signed(receiver.posts[1].raw, receiver.posts[1].headers)
    tampered = receiver.posts[1].raw.replace("补发".encode(), "退款".encode())
    assert not receiver._signed(tampered, receiver.posts[1].headers)


def test_an_answer_may_say_delivered_and_give_its_own_id(db, adapter, receiver):
    integration = _pointed_at(db, receiver)
    receiver.script = [Answer(200, {"state": "delivered", "external_ref": "jd-778"})]

    result = adapter.send(_delivery(integration.id))

    assert (result.state, result.external_ref) == (DeliveryState.DELIVERED, "jd-778")


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (502, False), (503, False), (429, False), (408, False),  # tried again
     (400, True), (401, True), (404, True), (410, True), (301, True)],  # refused: dead at once
)  # fmt: skip
def test_what_each_failing_answer_means(db, adapter, receiver, status, permanent):
    integration = _pointed_at(db, receiver)
    receiver.script = [Answer(status)]
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(integration.id))
    assert failed.value.permanent is permanent
    assert str(status) in failed.value.reason


def test_a_receiver_that_does_not_answer_in_time_is_a_temporary_failure(db, adapter, receiver):
    integration = _pointed_at(db, receiver)
    receiver.script = [Answer(200, delay=2.0)]  # the adapter waits 0.5 s
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(integration.id))
    assert not failed.value.permanent
    assert "0.5 s" in failed.value.reason


def test_a_receiver_that_is_down_is_a_temporary_failure(db, adapter):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once closed
    integration = factories.make_callback_integration(db, f"http://127.0.0.1:{port}/cb")
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(integration.id))
    assert not failed.value.permanent


def test_a_revoked_integration_or_one_without_a_callback_is_a_permanent_failure(
    db, adapter, receiver
):
    integration = _pointed_at(db, receiver)
    integrations.do_update_integration(
        db, SYSTEM, integration, {"callback_url": None}, secret_key=factories.SECRET_KEY
    )
    db.commit()
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(integration.id))
    assert failed.value.permanent

    other = _pointed_at(db, receiver)
    integrations.do_revoke_integration(db, SYSTEM, other)
    db.commit()
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(other.id))
    assert failed.value.permanent
    assert receiver.posts == []
