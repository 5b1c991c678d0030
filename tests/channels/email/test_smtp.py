"""The email adapter against a real SMTP server: Debian's Postfix, started privately on
loopback (tests/mailservers/postfix.py), the delivered mails read back with kefu's parser."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kefu.channels.base import AttachmentRef, DeliveryFailed, OutboundDelivery
from kefu.channels.email.parse import parse_mail
from kefu.channels.email.smtp import EmailAdapter, SmtpSettings, message_id_for
from tests.mailservers.postfix import DEFERRED, REFUSED, PostfixServer, free_port, running_postfix

pytestmark = pytest.mark.mail_servers

SENT_AT = datetime(2026, 12, 1, 2, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def postfix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostfixServer]:
    with running_postfix(tmp_path_factory.mktemp("smtp")) as server:
        yield server


def adapter_for(server: PostfixServer, **overrides: Any) -> EmailAdapter:
    settings = SmtpSettings(
        host=server.host,
        port=overrides.pop("port", server.port),
        security="none",
        from_address="support@shop.test",
        from_name="小店客服",
        timeout=10,
    )
    files = {7: "发票 PDF 内容".encode()}
    return EmailAdapter(lambda target: settings, load_attachment=lambda ref: files[ref.id])


def delivery(key: str, kind: str = "message", **target: Any) -> OutboundDelivery:
    return OutboundDelivery(
        outbox_id=1,
        idempotency_key=key,
        channel="email",
        kind=kind,
        target=target,
        ticket_id=42 if kind == "message" else None,
        message_id=9,
        text="您好，您的退款已经处理，预计 3 个工作日到账。",
        html="<p>您好，您的<b>退款</b>已经处理。</p><script>alert(1)</script>",
        author_name="张伟",
        author_type="user",
        created_at=SENT_AT,
    )


def test_a_reply_arrives_threaded_with_its_reference_and_attachment(
    postfix: PostfixServer,
) -> None:
    reply = delivery(
        "kefu-9-reply",
        mailbox_id=1,
        to=["li.na@customer.test"],
        cc=["boss@customer.test"],
        subject="Re: 退款什么时候到账？",
        in_reply_to="CAB123@mail.customer.test",
        references=["root@mail.customer.test"],
    )
    reply = OutboundDelivery(
        **{**reply.__dict__, "attachments": (AttachmentRef(7, "发票.pdf", "application/pdf", 21),)}
    )
    result = adapter_for(postfix).send(reply)

    mails = postfix.wait_for("li.na@customer.test")
    parsed = parse_mail(mails[-1])
    assert parsed.subject == "Re: 退款什么时候到账？ [#42]"
    assert (parsed.from_address, parsed.from_name) == ("support@shop.test", "小店客服")
    assert parsed.cc == ["boss@customer.test"]
    assert parsed.in_reply_to == "CAB123@mail.customer.test"
    assert parsed.references == ["root@mail.customer.test", "CAB123@mail.customer.test"]
    assert (
        parsed.message_id
        == result.external_ref
        == message_id_for("kefu-9-reply", "support@shop.test")
    )
    assert "kefu-9-reply" in parsed.message_id
    assert parsed.text.startswith("您好，您的退款已经处理")
    assert (
        parsed.html is not None and "<script>" not in parsed.html and "<b>退款</b>" in parsed.html
    )
    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("发票.pdf", "发票 PDF 内容".encode())
    ]
    assert not parsed.auto_reply
    assert postfix.wait_for("boss@customer.test")  # the Cc got it too


def test_a_resend_carries_the_same_message_id(postfix: PostfixServer) -> None:
    adapter = adapter_for(postfix)
    again = delivery("kefu-10-again", to=["twice@customer.test"], subject="订单")
    first = adapter.send(again)
    second = adapter.send(OutboundDelivery(**{**again.__dict__, "attempt": 2}))
    mails = postfix.wait_for("twice@customer.test", count=2)
    ids = {email.message_from_bytes(raw)["Message-ID"] for raw in mails}
    assert first.external_ref == second.external_ref
    assert ids == {f"<{first.external_ref}>"}


def test_a_notice_to_staff_is_marked_automatic(postfix: PostfixServer) -> None:
    notice = delivery(
        "kefu-notice-1",
        kind="notice",
        to=["chen.jing@shop.test", "zhou.min@shop.test"],
        subject="舆情预警：差评激增",
    )
    adapter_for(postfix).send(notice)
    raw = postfix.wait_for("zhou.min@shop.test")[-1]
    message = email.message_from_bytes(raw)
    assert message["Auto-Submitted"] == "auto-generated"
    assert parse_mail(raw).subject == "舆情预警：差评激增"
    assert postfix.wait_for("chen.jing@shop.test")


def test_a_bot_answer_says_auto_replied(postfix: PostfixServer) -> None:
    bot = OutboundDelivery(
        **{
            **delivery("kefu-11-bot", to=["bot@customer.test"], subject="问").__dict__,
            "author_type": "bot",
        }
    )
    adapter_for(postfix).send(bot)
    raw = postfix.wait_for("bot@customer.test")[-1]
    assert email.message_from_bytes(raw)["Auto-Submitted"] == "auto-replied"


def test_a_refused_recipient_is_permanent(postfix: PostfixServer) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter_for(postfix).send(delivery("kefu-12", to=[REFUSED], subject="x"))
    assert failure.value.permanent
    assert "550" in failure.value.reason


def test_a_busy_mailbox_is_tried_again(postfix: PostfixServer) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter_for(postfix).send(delivery("kefu-13", to=[DEFERRED], subject="x"))
    assert not failure.value.permanent
    assert "450" in failure.value.reason


def test_a_server_that_does_not_answer_is_tried_again(postfix: PostfixServer) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        adapter_for(postfix, port=free_port()).send(
            delivery("kefu-14", to=["a@b.test"], subject="x")
        )
    assert not failure.value.permanent


def test_a_subject_with_a_line_break_is_refused_and_nothing_is_sent(
    postfix: PostfixServer,
) -> None:
    forged = delivery("kefu-15", to=["victim@customer.test"], subject="hi\r\nBcc: all@corp.test")
    with pytest.raises(DeliveryFailed) as failure:
        adapter_for(postfix).send(forged)
    assert failure.value.permanent
    assert postfix.delivered("victim@customer.test") == []
    assert postfix.delivered("all@corp.test") == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_mailboxes_send_over_tls(postfix: PostfixServer, security: str) -> None:
    settings = SmtpSettings(
        host="localhost",
        port=postfix.port if security == "starttls" else postfix.tls_port,
        security=security,  # type: ignore[arg-type]
        from_address="support@shop.test",
        timeout=10,
    )
    adapter = EmailAdapter(lambda target: settings, tls_context=postfix.client_tls_context())
    adapter.send(delivery(f"kefu-tls-{security}", to=[f"{security}@customer.test"], subject="TLS"))
    raw = postfix.wait_for(f"{security}@customer.test")[-1]
    assert parse_mail(raw).subject == "TLS [#42]"
    assert "TLS connection established" in postfix.log()


def test_a_certificate_that_does_not_verify_is_permanent(postfix: PostfixServer) -> None:
    settings = SmtpSettings(
        host="localhost", port=postfix.tls_port, security="ssl", from_address="s@shop.test"
    )
    adapter = EmailAdapter(lambda target: settings)  # the system's CAs: the test cert is unknown
    with pytest.raises(DeliveryFailed) as failure:
        adapter.send(delivery("kefu-tls-bad", to=["x@customer.test"], subject="x"))
    assert failure.value.permanent
    assert "certificate" in failure.value.reason.lower()


def test_a_password_for_a_server_without_auth_is_permanent(postfix: PostfixServer) -> None:
    settings = SmtpSettings(
        host=postfix.host,
        port=postfix.port,
        security="none",
        username="kf",
        password="secret",
        from_address="s@shop.test",
    )
    with pytest.raises(DeliveryFailed) as failure:
        EmailAdapter(lambda target: settings).send(
            delivery("kefu-auth", to=["x@customer.test"], subject="x")
        )
    assert failure.value.permanent
    assert "secret" not in failure.value.reason
