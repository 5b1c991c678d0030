"""Header values as real mail writes them: encoded words, raw 8-bit bytes, address lists,
dates and message ids."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from kefu.channels.email.headers import addresses, decode_header, message_ids, parse_date


def raw(data: bytes) -> str:
    """A header value as the stdlib's bytes parser hands it over (8-bit bytes escaped)."""
    return data.decode("ascii", "surrogateescape")


def b_word(data: bytes, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


def test_a_character_split_over_two_words_is_joined() -> None:
    data = "退款".encode()
    assert decode_header(f"{b_word(data[:2])}\r\n {b_word(data[2:])}") == "退款"


def test_words_in_different_charsets_and_plain_text_between() -> None:
    value = f"{b_word('订单'.encode('gbk'), 'gbk')} #12 {b_word('訂單'.encode('big5'), 'big5')}"
    assert decode_header(value) == "订单 #12 訂單"


def test_q_encoding_underscores_and_missing_padding() -> None:
    assert decode_header("=?utf-8?Q?=E4=BD=A0=E5=A5=BD_world?=") == "你好 world"
    padded = base64.b64encode("你好".encode()).decode().rstrip("=")
    assert decode_header(f"=?utf-8?B?{padded}?=") == "你好"


def test_a_word_that_does_not_decode_is_kept_as_written() -> None:
    notes: list[str] = []
    assert decode_header("=?utf-8?B?*?= ok", notes) == "=?utf-8?B?*?= ok"


def test_raw_8bit_headers_in_gbk_and_utf8() -> None:
    notes: list[str] = []
    assert decode_header(raw("关于退款".encode("gbk")), notes) == "关于退款"
    assert decode_header(raw("关于退款".encode())) == "关于退款"
    assert notes and "gb18030" in notes[0]


def test_address_lists() -> None:
    value = f'"Zhao, Lei" <Zhao.Lei@Corp.test>, {b_word("王小明".encode("gb2312"), "gb2312")} <w@qq.com>, bare@x.test'
    assert addresses([value]) == [
        ("Zhao, Lei", "zhao.lei@corp.test"),
        ("王小明", "w@qq.com"),
        ("", "bare@x.test"),
    ]
    assert addresses(["undisclosed-recipients:;"]) == []
    assert addresses(["<<broken>> someone@example.test ((("]) == [("", "someone@example.test")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 1 Dec 2026 10:20:31 +0800", datetime(2026, 12, 1, 2, 20, 31, tzinfo=UTC)),
        ("Tue, 1 Dec 2026 10:20:31 +0800 (CST)", datetime(2026, 12, 1, 2, 20, 31, tzinfo=UTC)),
        ("1 Dec 2026 10:20:31 -0000", datetime(2026, 12, 1, 10, 20, 31, tzinfo=UTC)),
        ("2026-12-01 10:20:31", datetime(2026, 12, 1, 10, 20, 31, tzinfo=UTC)),
        ("2026年12月1日 星期二 10:20", datetime(2026, 12, 1, 10, 20, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_message_ids() -> None:
    assert message_ids("<a@b> <c@d>\r\n <a@b>") == ["a@b", "c@d"]
    assert message_ids("a@b.test") == ["a@b.test"]
    assert message_ids("<a@b> (added by the list)") == ["a@b"]
    assert message_ids("no id here") == []
    assert message_ids(None) == []
