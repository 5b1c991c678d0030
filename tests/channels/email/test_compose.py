"""compose_mail: answers that thread, read back by kefu's own parser; header injection refused."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from kefu.channels.email.compose import (
    AUTO_REPLIED,
    HeaderInjection,
    OutgoingAttachment,
    compose_mail,
    literal_header_text,
)
from kefu.channels.email.parse import parse_mail

WHEN = datetime(2026, 12, 1, 2, 20, tzinfo=UTC)


def answer(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "from_address": "kf@shop.test",
        "from_name": "小店客服",
        "to": ["wangxm@qq.com"],
        "cc": ["boss@qq.com"],
        "subject": "Re: 订单没到 [#123]",
        "text": "您好，快递明天送到。",
        "html": "<p>您好，<b>快递</b>明天送到。</p><img src=x onerror=alert(1)>",
        "message_id": "kefu.k-1@shop.test",
        "date": WHEN,
        "in_reply_to": "tencent_1@qq.com",
        "references": ["root@qq.com", "tencent_1@qq.com"],
        "attachments": [OutgoingAttachment("物流单.pdf", "application/pdf", b"%PDF-1.4 x")],
    }
    fields.update(overrides)
    return compose_mail(**fields).as_bytes()  # type: ignore[arg-type]


def test_an_answer_reads_back_whole() -> None:
    mail = parse_mail(answer())
    assert (mail.from_address, mail.from_name) == ("kf@shop.test", "小店客服")
    assert (mail.to, mail.cc) == (["wangxm@qq.com"], ["boss@qq.com"])
    assert mail.subject == "Re: 订单没到 [#123]"
    assert mail.message_id == "kefu.k-1@shop.test"
    assert mail.in_reply_to == "tencent_1@qq.com"
    assert mail.references == ["root@qq.com", "tencent_1@qq.com"]
    assert mail.date == WHEN
    assert mail.text == "您好，快递明天送到。"
    assert mail.html is not None and "onerror" not in mail.html and "<b>快递</b>" in mail.html
    assert [(a.filename, a.data) for a in mail.attachments] == [("物流单.pdf", b"%PDF-1.4 x")]
    assert not mail.auto_reply


def test_lines_end_in_crlf_and_headers_are_ascii() -> None:
    raw = answer()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_an_automatic_answer_says_so() -> None:
    raw = answer(auto_submitted=AUTO_REPLIED)
    assert b"Auto-Submitted: auto-replied" in raw
    assert parse_mail(raw).auto_reply


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "hi\r\nBcc: all@corp.test"},
        {"subject": "hi\nX-Evil: 1"},
        {"from_name": "客服\r\nBcc: all@corp.test"},
        {"to": ["a@b.test\r\nBcc: all@corp.test"]},
        {"cc": ["a@b.test\n"]},
        {"message_id": "x@y\r\nBcc: z@corp.test"},
        {"in_reply_to": "x@y\nBcc: z@corp.test"},
        {"references": ["ok@y", "x@y\rBcc: z"]},
        {"attachments": [OutgoingAttachment("a\r\n.pdf", "application/pdf", b"")]},
        {"to": ["not an address"]},
        {"to": ["a@b.test, c@d.test"]},
        {"to": []},
    ],
)
def test_line_breaks_and_non_addresses_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(HeaderInjection):
        answer(**overrides)


def test_text_that_looks_like_an_encoded_word_is_sent_as_that_text() -> None:
    """A customer who typed ``=?utf-8?b?…?=`` in a subject: the receiver must not decode it into
    a line break (regression: the email package wrote the word as it was)."""
    word = "=?utf-8?b?6YCA5qy+DQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?="  # 退款\r\nBcc: evil@example.com
    raw = answer(
        subject=f"Re: {word} [#9]",
        from_name=word,
        attachments=[OutgoingAttachment(f"{word}.pdf", "application/pdf", b"%PDF")],
    )
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == f"Re: {literal_header_text(word)} [#9]"
    assert "\n" not in parsed["Subject"] and "Bcc" not in parsed.keys()
    name = parsed["From"].addresses[0].display_name  # (the package folds a space into it)
    assert name.replace(" ", "") == literal_header_text(word)
    [attachment] = parsed.iter_attachments()
    assert attachment.get_filename() == literal_header_text(f"{word}.pdf")
    assert literal_header_text(word).replace("\u200b", "") == word  # looks as typed
