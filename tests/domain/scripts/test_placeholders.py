"""Placeholders: one parser for [名称], 【名称】 and {name}; filling; the unfilled with their spans."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.scripts.placeholders import canonical, fill, find, names


def test_the_three_spellings_are_one_placeholder_syntax():
    text = "[客户称呼]您好，订单【单号】已发出，预计{time}送达"
    assert [(p.name, p.raw) for p in find(text)] == [
        ("客户称呼", "[客户称呼]"),
        ("单号", "【单号】"),
        ("时间", "{time}"),
    ]
    assert [text[p.start : p.end] for p in find(text)] == ["[客户称呼]", "【单号】", "{time}"]


def test_order_number_aliases_are_the_same_value():
    assert canonical("订单号") == canonical("单号") == canonical("order_no") == "单号"
    filled = fill("订单[订单号]，即【单号】", {"订单号": "SL20240315"})
    assert filled.text == "订单SL20240315，即SL20240315"
    assert filled.complete


def test_json_and_plain_brackets_are_not_placeholders():
    assert find('配置 {"a": 1} 与 [] 与 {} 不算') == []
    assert names("[ 客户称呼 ]、[客户称呼]") == ["客户称呼"]


def test_unfilled_placeholders_stay_and_are_listed_with_their_spans_in_the_filled_text():
    filled = fill(
        "[客户称呼]您好，您的[商品名称]单号[单号]", {"客户称呼": "王先生/女士", "单号": ""}
    )
    assert filled.text == "王先生/女士您好，您的[商品名称]单号[单号]"
    assert [(p.name, filled.text[p.start : p.end]) for p in filled.unfilled] == [
        ("商品名称", "[商品名称]"),
        ("单号", "[单号]"),  # an empty value is no value
    ]
    assert not filled.complete


def test_emoji_and_full_width_text_around_placeholders_keep_their_offsets():
    filled = fill("😀[客户称呼]！🎉[时间]～", {"客户称呼": "李女士"})
    (left,) = filled.unfilled
    assert filled.text[left.start : left.end] == "[时间]"


_name = st.text(alphabet="单号客户称呼时间商品名", min_size=1, max_size=6)
_plain = st.text(alphabet="您好，。的了 abc😀", max_size=8)


@given(st.lists(st.tuples(_plain, _name), max_size=6), _plain, st.data())
def test_filling_keeps_every_unfilled_span_on_its_placeholder(pieces, tail, data):
    text = "".join(f"{before}[{name}]" for before, name in pieces) + tail
    given_values = data.draw(st.dictionaries(_name, st.text(alphabet="王SL123", max_size=5)))
    filled = fill(text, given_values)
    for p in filled.unfilled:
        assert filled.text[p.start : p.end] == p.raw
        assert not given_values.get(p.name, "").strip()
    all_values = {p.name: "值" for p in find(text)}
    assert fill(text, all_values).complete


def test_an_unknown_customer_is_addressed_once_not_you_comma_you():
    assert fill("[客户称呼]，您好！", {"客户称呼": "您"}).text == "您好！"
    assert fill("[客户称呼]，您的心情我理解", {"客户称呼": "您"}).text == "您的心情我理解"
    assert fill("[客户称呼]您好", {"客户称呼": "您"}).text == "您好"
    assert fill("谢谢[客户称呼]的耐心", {"客户称呼": "您"}).text == "谢谢您的耐心"
    filled = fill("[客户称呼]，您好，[单号]", {"客户称呼": "您"})
    assert filled.text == "您好，[单号]" and filled.text[filled.unfilled[0].start :] == "[单号]"
