"""What a customer newly wrote: quoted history and signatures cut in the shapes the common
clients write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.channels.email.quotes import strip_quoted

NEW = "好的，那我等快递。"


@pytest.mark.parametrize(
    "tail",
    [
        "> 您好，已经发货了。",
        "-----Original Message-----\nFrom: kf@shop.test\nSent: Monday\n\nold",
        '------------------ 原始邮件 ------------------\n发件人: "客服"<kf@shop.test>;\n发送时间: 2026年12月1日\n收件人: a;\n主题: 订单\n\nold',
        "-----邮件原件-----\n发件人: kf@shop.test\n\nold",
        "在 2026年12月1日 星期二 10:20，张三 <a@b.com> 写道：\n\nold",
        "在 2026年12月1日，上午10:20，小店客服 <kf@shop.test>\n写道：\nold",
        "小店客服 <kf@shop.test> 于2026年12月1日周二 上午10:20写道：\n> old",
        "On Tue, Dec 1, 2026 at 10:20 AM Shop <kf@shop.test> wrote:\n> old",
        "On Tue, Dec 1, 2026 at 10:20 AM Shop Support <kf@shop.test>\nwrote:\n> old",
        "________________________________\n发件人: 小店客服 <kf@shop.test>\n发送时间: 2026年11月30日 15:15\n收件人: 李娜\n主题: 关于发票\n\nold",
        "From: Shop <kf@shop.test>\nSent: Monday, November 30, 2026 3:15 PM\nTo: Li Na\nSubject: invoice\n\nold",
        "-- \n张三\n某某公司 采购部",
        "发自我的iPhone",
        "Sent from my iPhone",
        "发自网易邮箱大师",
        "获取 Outlook for iOS",
        "Get Outlook for Android",
        "发自我的华为手机",
    ],
)
def test_history_and_signatures_are_cut(tail: str) -> None:
    assert strip_quoted(f"{NEW}\n\n{tail}\n") == NEW


def test_inline_answers_keep_the_answers_without_the_quotes() -> None:
    text = "> 订单号是多少？\n20261130001\n> 哪天买的？\n上周五"
    assert strip_quoted(text) == "20261130001\n上周五"


def test_a_mail_that_is_only_a_quote_is_kept_whole() -> None:
    assert strip_quoted("> 只有引用\n> 第二行\n") == "> 只有引用\n> 第二行"


def test_ordinary_lines_that_look_alike_stay() -> None:
    text = (
        "From: 北京发货，To: 上海\n"  # one header-looking line is no header block
        "我在 12 月 1 日写道歉信给你们了\n"
        "Sent from the warehouse yesterday, the parcel is lost.\n"
        "--\n"
        "以下是更多说明：\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11"
    )
    assert strip_quoted(text) == text


def test_line_ends_are_unified() -> None:
    assert strip_quoted("第一行\r\n第二行\r\n> old\r\n") == "第一行\n第二行"


@given(
    st.text(
        alphabet=st.sampled_from(list("> -—发自我的iPhone写道：On wrote:\n原始邮件_ab订单")),
        max_size=200,
    )
)
def test_text_with_words_never_comes_back_empty(text: str) -> None:
    shown = strip_quoted(text)
    assert bool(shown.strip()) == bool(text.strip())
