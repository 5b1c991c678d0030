"""Automatic mail told apart from a customer's: headers first, then subjects only servers write."""

from __future__ import annotations

import pytest

from kefu.channels.email.autoreply import auto_reply_reason


def reason(
    headers: dict[str, list[str]] | None = None,
    *,
    subject: str = "订单问题",
    sender: str = "li@example.test",
    content_type: str = "text/plain",
) -> str | None:
    return auto_reply_reason(
        headers or {}, subject=subject, from_address=sender, content_type=content_type
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"auto-submitted": ["auto-replied"]}, "auto-submitted"),
        ({"auto-submitted": ["auto-generated"]}, "auto-submitted"),
        ({"precedence": ["bulk"]}, "precedence"),
        ({"precedence": ["junk"]}, "precedence"),
        ({"precedence": ["list"]}, "precedence"),
        ({"precedence": ["auto_reply"]}, "precedence"),
        ({"x-autoreply": ["yes"]}, "x-autoreply"),
        ({"x-autorespond": ["Out of office"]}, "x-autoreply"),
        ({"x-auto-response-suppress": ["All"]}, "auto-response-suppress"),
        ({"x-auto-response-suppress": ["DR, OOF"]}, "auto-response-suppress"),
        ({"return-path": ["<>"]}, "null-sender"),
    ],
)
def test_headers(headers: dict[str, list[str]], expected: str) -> None:
    assert reason(headers) == expected


def test_what_is_not_automatic() -> None:
    assert reason({"auto-submitted": ["no"], "precedence": ["normal"]}) is None
    assert reason({"return-path": ["<li@example.test>"]}) is None
    assert reason({"x-auto-response-suppress": ["DR"]}) is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.test".lower(), "postmaster@qq.com"])
def test_mail_daemons(sender: str) -> None:
    assert reason(sender=sender) == "mailer-daemon"


def test_delivery_reports() -> None:
    assert reason(content_type="multipart/report") == "bounce"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("自动回复: 关于发票", "out-of-office"),
        ("自動回覆：訂單", "out-of-office"),
        ("Automatic reply: invoice", "out-of-office"),
        ("Out of Office: back Monday", "out-of-office"),
        ("Undelivered Mail Returned to Sender", "bounce"),
        ("Undeliverable: Re: 订单", "bounce"),
        ("Delivery Status Notification (Failure)", "bounce"),
        ("系统退信", "bounce"),
        ("退信：无法投递", "bounce"),
        ("邮件投递失败", "bounce"),
    ],
)
def test_subjects(subject: str, expected: str) -> None:
    assert reason(subject=subject) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "快递投递失败怎么办",
        "包裹未送达",
        "退信用卡年费",
        "My delivery failed twice",
        "休假期间能退货吗",
    ],
)
def test_customers_complaining_about_deliveries_are_not_bounces(subject: str) -> None:
    assert reason(subject=subject) is None
