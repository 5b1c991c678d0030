"""The email adapter's decisions that need no server: what it builds for each kind of delivery
and which failures are permanent (the sending itself: test_smtp.py, against Postfix)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kefu.channels.base import AttachmentRef, DeliveryFailed, OutboundDelivery
from kefu.channels.email.parse import parse_mail
from kefu.channels.email.smtp import EmailAdapter, SmtpSettings, message_id_for

SETTINGS = SmtpSettings(host="127.0.0.1", port=1, from_address="kf@shop.test", from_name="客服")


def delivery(kind: str = "message", **fields: Any) -> OutboundDelivery:
    target = fields.pop("target", {"to": ["li@customer.test"], "subject": "退款"})
    values: dict[str, Any] = {
        "outbox_id": 3,
        "idempotency_key": "kefu-3-abc",
        "channel": "email",
        "kind": kind,
        "target": target,
        "ticket_id": 8,
        "message_id": 3,
        "text": "已处理。",
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    values.update(fields)
    return OutboundDelivery(**values)


def test_a_reply_without_a_message_id_gets_one_from_its_key() -> None:
    mail = EmailAdapter(lambda target: SETTINGS).compose(delivery(), SETTINGS)
    parsed = parse_mail(mail.as_bytes())
    assert parsed.message_id == message_id_for("kefu-3-abc", "kf@shop.test")
    assert parsed.subject == "退款 [#8]"
    assert mail["Auto-Submitted"] is None


def test_a_reply_keeps_the_message_id_the_mailbox_code_chose() -> None:
    target = {"to": ["li@customer.test"], "subject": "退款", "message_id": "kefu.own@shop.test"}
    mail = EmailAdapter(lambda t: SETTINGS).compose(delivery(target=target), SETTINGS)
    assert mail["Message-ID"] == "<kefu.own@shop.test>"


def test_a_notice_is_auto_generated_and_carries_no_ticket_reference() -> None:
    target = {"to": ["a@shop.test", "b@shop.test"], "subject": "预警"}
    mail = EmailAdapter(lambda t: SETTINGS).compose(delivery("notice", target=target), SETTINGS)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Subject"] == "预警"
    assert mail["To"] == "a@shop.test, b@shop.test"


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"kind": "survey"}, "sends no 'survey'"),
        ({"target": {"to": [], "subject": "x"}}, "recipient"),
        ({"target": {"to": ["a@b.test"], "subject": "x\nBcc: c@d.test"}}, "line break"),
        ({"attachments": (AttachmentRef(1, "a.pdf", "application/pdf", 3),)}, "attachments"),
    ],
)
def test_what_can_never_be_sent_fails_for_good(kwargs: dict[str, Any], why: str) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        EmailAdapter(lambda t: SETTINGS).send(delivery(**kwargs))
    assert failure.value.permanent
    assert why in failure.value.reason


def test_a_mailbox_that_no_longer_exists_is_permanent() -> None:
    def missing(target: object) -> SmtpSettings:
        raise LookupError("mailbox 9")

    with pytest.raises(DeliveryFailed) as failure:
        EmailAdapter(missing).send(delivery())
    assert failure.value.permanent


def test_the_password_is_not_in_the_settings_repr() -> None:
    assert "hunter2" not in repr(SmtpSettings(host="h", password="hunter2", from_address="a@b.c"))
