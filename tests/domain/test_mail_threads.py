"""Ticket references in subjects and the References chain of an answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.mail_threads import (
    MAX_REFERENCES,
    new_message_id,
    ref_in_subject,
    references_for,
    reply_subject,
    subject_with_ref,
)


@pytest.mark.parametrize(
    ("subject", "ticket"),
    [
        ("Re: 订单没到 [#123]", 123),
        ("回复：订单没到［＃123］", 123),
        ("答复: [工单#123] 发票", 123),
        ("RE: [Ticket#123]", 123),
        ("Re: [ Ticket # 123 ] refund", 123),
        ("【#123】退款", 123),
        ("Re: [#7] old, and [#123] new", 123),
        ("订单 #123 没到", None),
        ("[123]", None),
        ("", None),
    ],
)
def test_ref_in_subject(subject: str, ticket: int | None) -> None:
    assert ref_in_subject(subject) == ticket


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("订单没到", "订单没到 [#123]"),
        ("订单没到 [#123]", "订单没到 [#123]"),
        ("Re: 订单没到 [#123]", "Re: 订单没到 [#123]"),
        ("Re: Re: 回复：订单没到", "Re: 订单没到 [#123]"),
        ("RE: [#123] 订单没到", "Re: 订单没到 [#123]"),
        ("Fwd: 订单没到", "Fwd: 订单没到 [#123]"),
        ("Re: [#7] 旧单", "Re: [#7] 旧单 [#123]"),
        ("", "[#123]"),
        ("  多余   空格  ", "多余 空格 [#123]"),
    ],
)
def test_subject_with_ref(subject: str, expected: str) -> None:
    assert subject_with_ref(subject, 123) == expected


def test_reply_subject_adds_one_re() -> None:
    assert reply_subject("订单没到", 5) == "Re: 订单没到 [#5]"
    assert reply_subject("回复: Re: 订单没到 [#5]", 5) == "Re: 订单没到 [#5]"


@given(st.text(max_size=80), st.integers(min_value=1, max_value=10**9))
def test_the_reference_is_added_once_and_found_again(subject: str, ticket: int) -> None:
    once = subject_with_ref(subject, ticket)
    assert ref_in_subject(once) == ticket
    assert subject_with_ref(once, ticket) == once
    assert once.count(f"[#{ticket}]") == 1
    assert "\n" not in once and "\r" not in once


def test_new_message_id() -> None:
    assert new_message_id("shop.test", unique="kefu-9-ab") == "kefu.kefu-9-ab@shop.test"
    assert new_message_id("shop.test", unique="a b<c>") == "kefu.a-b-c-@shop.test"
    assert new_message_id("shop.test") != new_message_id("shop.test")
    assert new_message_id("bad domain\r\n").endswith("@kefu.invalid")


def test_references_for_an_answer() -> None:
    assert references_for("b@x", ["a@x"]) == ["a@x", "b@x"]
    assert references_for("b@x", ["a@x", "b@x"]) == ["a@x", "b@x"]
    assert references_for(None, ["a@x"]) == ["a@x"]
    assert references_for("a@x", None) == ["a@x"]
    assert references_for(None, None) == []


def test_a_long_chain_keeps_its_root_and_latest_ids() -> None:
    chain = [f"m{i}@x" for i in range(50)]
    answer = references_for("last@x", chain)
    assert len(answer) == MAX_REFERENCES
    assert answer[0] == "m0@x"
    assert answer[-2:] == ["m49@x", "last@x"]
