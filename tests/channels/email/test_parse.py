"""parse_mail over the corpus of real-world-shaped mails (corpus/, written by make_corpus.py)
and over mails built here for one property each."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.channels.email.parse import MailUnparseable, ParsedMail, mail_json, parse_mail
from kefu.sanitize import sanitize_mail_html

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> ParsedMail:
    return parse_mail((CORPUS / name).read_bytes())


def test_foxmail_gb2312_labels_carrying_gbk_characters() -> None:
    mail = corpus("foxmail_gb2312_reply.eml")
    assert (mail.from_address, mail.from_name) == ("wangxm@qq.com", "王小明")
    assert mail.subject == "回复：您的订单已发货 [#123]"
    assert mail.date == datetime(2026, 12, 1, 2, 20, 26, tzinfo=UTC)
    assert mail.in_reply_to == "kefu.kefu-88-1a2b3c4d@shop.test"
    assert mail.references == ["CAF1root@shop.test", "kefu.kefu-88-1a2b3c4d@shop.test"]
    assert "陶喆" in mail.text and "朱镕基" in mail.text  # GBK, not GB2312, characters
    assert "原始邮件" not in mail.text and "您的订单已发货。" not in mail.text
    assert "原始邮件" in mail.full_text  # the original is kept
    assert mail.html is not None and "陶喆" in mail.html
    assert mail.defects == []


def test_outlook_header_block_cut_and_rfc2231_filename() -> None:
    mail = corpus("outlook_utf8_invoice.eml")
    assert (
        mail.text
        == "王经理您好：\n\n附件是上个月的发票，金额和合同不一致，麻烦核对一下。\n\n李娜\n采购部"
    )
    assert mail.cc == ["wang.jl@corp.test", "zhao.lei@corp.test"]
    [invoice] = mail.attachments
    assert invoice.filename == "发票—2026年11月.pdf"
    assert invoice.content_type == "application/pdf"
    assert invoice.data.startswith(b"%PDF-1.4") and not invoice.inline


def test_netease_signature_and_gbk_encoded_word_filename() -> None:
    mail = corpus("netease163_gbk_photo.eml")
    assert mail.subject == "杯子碎了，申请换货"
    assert mail.text == "你好，收到的杯子碎了，照片在附件里。能换一个吗？"
    [photo] = mail.attachments
    assert (photo.filename, photo.content_type) == ("破损照片.jpg", "image/jpeg")
    assert photo.data.startswith(b"\xff\xd8") and photo.size == len(photo.data)


def test_apple_mail_inline_image_kept_with_its_cid() -> None:
    mail = corpus("apple_mail_inline_image.eml")
    assert mail.text == "屏幕截图在下面，付款的时候一直报错。"
    [image] = mail.attachments
    assert image.inline and image.content_id == "4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D"
    assert image.data.startswith(b"\x89PNG")
    assert mail.html is not None and 'src="cid:4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D"' in mail.html


def test_gmail_html_loses_remote_images_and_scripts_but_keeps_alt_text() -> None:
    mail = corpus("gmail_utf8_tracking.eml")
    assert mail.text == "Hi, I still haven't received the refund for order #A1029. 退款还没到账。"
    assert mail.html is not None
    for gone in ("mailtrack.example", "shop.test/logo.png", "javascript:", "onclick", "steal"):
        assert gone not in mail.html
    assert 'alt="Shop logo"' in mail.html
    assert 'width="1"' not in mail.html  # the tracking pixel is gone, not just its source


def test_big5_body_and_subject() -> None:
    mail = corpus("big5_warranty.eml")
    assert mail.subject == "藍牙耳機保固問題"
    assert mail.from_name == "陳怡君"
    assert "右耳沒有聲音" in mail.text and mail.text.endswith("陳怡君 敬上")


@pytest.mark.parametrize(
    ("name", "subject", "phrase", "note"),
    [
        (
            "mislabelled_latin1_gbk.eml",
            "快递显示已签收但没收到",
            "根本没有收到",
            "iso-8859-1 on gb18030",
        ),
        ("mislabelled_gb2312_utf8.eml", "网站留言", "优惠券领不了", "gb2312 on utf-8"),
    ],
)
def test_a_mislabelled_charset_is_read_as_what_it_is(
    name: str, subject: str, phrase: str, note: str
) -> None:
    mail = corpus(name)
    assert mail.subject == subject
    assert phrase in mail.text
    assert any(note in defect for defect in mail.defects)


def test_a_broken_base64_part_loses_nothing_of_the_rest() -> None:
    mail = corpus("broken_base64_part.eml")
    assert mail.text == "合同和清单在附件。"
    assert [a.filename for a in mail.attachments] == ["contract.pdf", "list.csv"]
    assert mail.attachments[1].data.decode() == "商品,数量\r\n杯子,2\r\n"
    assert any("InvalidBase64" in defect for defect in mail.defects)


def test_a_boundary_that_never_closes_keeps_every_part() -> None:
    mail = corpus("missing_boundary_end.eml")
    assert mail.text == "请帮我开一张增值税专用发票，公司信息见附件。"
    [info] = mail.attachments
    assert info.filename == "公司信息.txt"
    assert "91110000" in info.data.decode()
    assert any("CloseBoundaryNotFound" in defect for defect in mail.defects)


def test_a_malformed_part_is_recorded_and_the_others_kept() -> None:
    mail = corpus("malformed_part.eml")
    assert "发票抬头写错了" in mail.text and "请重开" in mail.text
    assert [a.filename for a in mail.attachments] == ["screen.png"]
    assert any("MissingHeaderBodySeparator" in defect for defect in mail.defects)


def test_no_date_no_message_id_no_content_type() -> None:
    mail = corpus("no_date_no_id.eml")
    assert (mail.date, mail.message_id) == (None, None)
    assert (mail.from_name, mail.subject) == ("小李", "还在吗？订单怎么取消")
    assert mail.text == "我想取消订单，怎么操作？"
    assert "no Message-ID header" in mail.defects


def test_a_missing_date_falls_back_on_the_received_stamp() -> None:
    raw = (
        b"Received: from a by b; Tue, 1 Dec 2026 10:20:31 +0800\r\n"
        b"From: a@example.test\r\nSubject: x\r\n\r\nbody\r\n"
    )
    assert parse_mail(raw).date == datetime(2026, 12, 1, 2, 20, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("out_of_office_exchange.eml", "auto-submitted"),
        ("bounce_postfix.eml", "bounce"),
        ("bounce_qq_chinese.eml", "mailer-daemon"),
    ],
)
def test_automatic_mail_is_told(name: str, reason: str) -> None:
    mail = corpus(name)
    assert mail.auto_reply and mail.auto_reply_reason == reason


def test_a_bounce_keeps_the_report_and_the_returned_mail_as_attachments() -> None:
    mail = corpus("bounce_postfix.eml")
    assert "User unknown" in mail.text
    kinds = [a.content_type for a in mail.attachments]
    assert kinds == ["message/delivery-status", "message/rfc822"]
    assert b"kefu.kefu-77-ab@shop.test" in mail.attachments[1].data


def test_customer_mail_is_not_automatic() -> None:
    for path in sorted(CORPUS.glob("*.eml")):
        if not path.name.startswith(("bounce", "out_of_office")):
            assert not parse_mail(path.read_bytes()).auto_reply, path.name


def test_encoded_words_split_inside_a_character() -> None:
    mail = corpus("split_encoded_words.eml")
    assert mail.subject == "申请退款：商品与描述不符"
    assert mail.from_name == "欧阳娜娜"


def test_html_only_mail_gets_its_text_from_the_html() -> None:
    mail = corpus("html_only_shop_form.eml")
    assert (
        mail.text
        == "用户投诉\n订单号：SO20261206\n内容：客服态度很差，订单链接\n- 第一条\n- 第二条"
    )
    assert mail.reply_to == ["angry.customer@example.test"]
    assert mail.html is not None
    for gone in (
        "<script",
        "document.cookie",
        "onload",
        "<iframe",
        "track.example",
        "cdn.example",
    ):
        assert gone not in mail.html
    assert mail.html.startswith("<h2>")  # the <title> went with the <head>
    assert 'href="https://shop.test/o/1"' in mail.html


def test_every_corpus_mail_parses_with_text_and_a_sender() -> None:
    for path in sorted(CORPUS.glob("*.eml")):
        mail = parse_mail(path.read_bytes())
        assert mail.from_address and "@" in mail.from_address, path.name
        assert mail.text.strip(), path.name
        assert "\ufffd" not in mail.full_text + mail.subject + mail.from_name, path.name


def test_mail_json_has_the_issue_fields() -> None:
    data = mail_json(corpus("netease163_gbk_photo.eml"))
    for key in (
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message_id",
        "in_reply_to",
        "references",
        "text",
        "html",
        "attachments",
        "auto_reply",
    ):
        assert key in data
    assert data["from"] == "zhaoqiang@163.com"
    assert data["date"] == "2026-11-28T13:05:11+00:00"
    assert data["attachments"][0]["filename"] == "破损照片.jpg"
    assert set(data["attachments"][0]) >= {"filename", "content_type", "size"}


def test_a_mail_that_is_only_a_quote_keeps_its_text() -> None:
    raw = (
        b"From: a@example.test\r\nSubject: Fwd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + ("> 您好，请问发货了吗？\r\n> 谢谢\r\n".encode())
    )
    assert parse_mail(raw).text == "> 您好，请问发货了吗？\n> 谢谢"


def test_format_flowed_lines_are_joined() -> None:
    raw = (
        b"From: a@example.test\r\nSubject: x\r\n"
        b"Content-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
        b"This line is wrapped \r\nby the client.\r\nNext.\r\n"
    )
    assert parse_mail(raw).text == "This line is wrapped by the client.\nNext."


def test_a_30_mb_mail_is_parsed_whole() -> None:
    payload = bytes(range(256)) * (30 * 1024 * 1024 // 256)
    raw = (
        b"From: big@example.test\r\nTo: kf@shop.test\r\nSubject: =?utf-8?B?"
        + base64.b64encode("监控录像".encode())
        + b"?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "录像在附件。".encode()
        + b"\r\n--B\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=cam.mp4\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(payload).replace(b"\n", b"\r\n")
        + b"\r\n--B--\r\n"
    )
    assert len(raw) > 30 * 1024 * 1024
    mail = parse_mail(raw)
    assert mail.subject == "监控录像" and mail.text == "录像在附件。"
    [video] = mail.attachments
    assert video.size == len(payload) and video.data == payload


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 binary", b"just some words\r\n"])
def test_bytes_without_a_mail_are_unparseable(raw: bytes) -> None:
    with pytest.raises(MailUnparseable):
        parse_mail(raw)


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(
        st.sampled_from(
            [
                b"From: =?gb2312?B?1cXI/Q==?= <a@b.test>",
                b"Subject: =?utf-8?B?5L2g?= =?bogus?Q?x?=",
                b"Subject: \xd6\xd0\xce\xc4",
                b"Content-Type: multipart/mixed; boundary=x",
                b"Content-Type: text/plain; charset=big5",
                b"Content-Transfer-Encoding: base64",
                b"Content-Transfer-Encoding: quoted-printable",
                b"Date: not a date",
                b"Message-ID: <<<>>>",
                b"References: <a@b> junk <c@d",
                b"To: ,,,;<>@",
            ]
        ),
        max_size=6,
    ),
    body=st.binary(max_size=400),
)
def test_any_mail_shaped_bytes_parse_or_are_refused_cleanly(
    headers: list[bytes], body: bytes
) -> None:
    raw = b"From: x@y.test\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body
    mail = parse_mail(raw)
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
    assert "\n" not in mail.subject
    mail_json(mail)


def test_mail_html_keeps_only_images_inside_the_mail() -> None:
    clean = sanitize_mail_html(
        '<p>a<img src="https://t.example/p.gif" width="1" height="1">'
        '<img src="http://x.example/l.png" alt="logo"><img src="cid:a1">'
        '<img alt="" src="//cdn.example/x.png"><img src="data:image/png;base64,AAAA"></p>'
    )
    assert clean == '<p>a<img alt="logo"><img src="cid:a1"></p>'


def test_regressions_found_by_fuzzing() -> None:
    """Each of these raised before: an 8-bit Received stamp read twice, an 8-bit Content-ID
    handed over as a Header object, a charset label with a NUL in it."""
    raw = (
        b"Received: from \xd6\xd0 by mx; Tue, 1 Dec 2026 10:20:31 +0800\r\n"
        b"From: a@example.test\r\nSubject: x\r\nContent-Type: multipart/related; boundary=B\r\n\r\n"
        b'--B\r\nContent-Type: text/plain; charset="gb\x002312"\r\n\r\n\xc4\xe3\xba\xc3\r\n'
        b"--B\r\nContent-Type: image/png\r\nContent-ID: <\xd6\xd0@x>\r\n\r\npng\r\n--B--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.date == datetime(2026, 12, 1, 2, 20, 31, tzinfo=UTC)
    assert mail.text == "你好"
    [image] = mail.attachments
    assert image.content_id == "中@x" and image.inline
