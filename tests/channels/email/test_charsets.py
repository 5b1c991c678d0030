"""Charset labels believed or not: GB labels read as GB18030, Western or missing labels on
Chinese bytes guessed, CJK labels on UTF-8 corrected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.channels.email.charsets import decode_bytes, guess

SIMPLIFIED = "您好，我的订单还没有发货，请帮忙查一下物流信息，谢谢！"
TRADITIONAL = "您好，我的訂單還沒有發貨，請幫忙查一下物流資訊，謝謝！"


@pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "cp936", "gb18030"])
def test_gb_labels_read_gbk_and_gb18030_characters(label: str) -> None:
    text = "陶喆、朱镕基、𠮷野家"  # 喆 镕 are GBK only, 𠮷 needs GB18030's four bytes
    decoded = decode_bytes(text.encode("gb18030"), label)
    assert decoded.text == text and decoded.note is None


@pytest.mark.parametrize(
    "label", [None, "", "us-ascii", "iso-8859-1", "windows-1252", "unknown-8bit"]
)
@pytest.mark.parametrize(
    ("text", "codec", "guessed"),
    [
        (SIMPLIFIED, "gbk", "gb18030"),
        (TRADITIONAL, "big5", "big5hkscs"),
        (SIMPLIFIED, "utf-8", "utf-8"),
        (TRADITIONAL, "utf-8", "utf-8"),
    ],
)
def test_untrusted_labels_are_guessed(
    label: str | None, text: str, codec: str, guessed: str
) -> None:
    decoded = decode_bytes(text.encode(codec), label)
    assert decoded.text == text
    assert decoded.charset == guessed
    assert decoded.note is not None and guessed in decoded.note


def test_a_gb2312_label_on_utf8_text_reads_utf8() -> None:
    decoded = decode_bytes(SIMPLIFIED.encode("utf-8"), "gb2312")
    assert decoded.text == SIMPLIFIED and decoded.charset == "utf-8"


def test_a_utf8_label_on_gbk_bytes_reads_gbk() -> None:
    decoded = decode_bytes(SIMPLIFIED.encode("gbk"), "utf-8")
    assert decoded.text == SIMPLIFIED


def test_big5_label_is_read_as_big5_hkscs() -> None:
    text = "香港滙豐銀行"  # 滙 is an HKSCS character
    assert decode_bytes(text.encode("big5hkscs"), "big5").text == text


def test_plain_ascii_needs_no_label() -> None:
    assert decode_bytes(b"Order #123 shipped", "x-made-up").text == "Order #123 shipped"


def test_bytes_no_candidate_decodes_are_replaced_and_noted() -> None:
    decoded = decode_bytes(b"ok \xff\xfe\xff\xfe\x80", None)
    assert decoded.text.startswith("ok ")
    assert decoded.note is not None


def test_short_texts_are_told_apart() -> None:
    assert guess("退款".encode("gbk")) == ("退款", "gb18030")
    assert guess("退貨".encode("big5")) == ("退貨", "big5hkscs")


@given(
    st.binary(max_size=300), st.sampled_from([None, "gb2312", "big5", "utf-8", "latin1", "x-no"])
)
def test_decoding_never_raises(data: bytes, label: str | None) -> None:
    assert isinstance(decode_bytes(data, label).text, str)
