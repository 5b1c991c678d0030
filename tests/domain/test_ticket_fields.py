"""Custom field values: every type read from what people and systems type, and shown back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.ticket_fields import (
    FieldSpec,
    FieldType,
    FieldValueError,
    check_definition,
    display,
    merge,
    missing_required,
    parse_value,
)
from kefu.nlp.normalize import simplify

TEXT = FieldSpec("order_no", "订单号", FieldType.TEXT, required=True)
NUMBER = FieldSpec("amount", "金额", FieldType.NUMBER)
DATE = FieldSpec("promised", "承诺日期", FieldType.DATE)
CHOICE = FieldSpec("carrier", "快递公司", FieldType.CHOICE, options=("顺丰", "中通", "EMS"))
SPECS = {s.key: s for s in (TEXT, NUMBER, DATE, CHOICE)}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("SO2026120700001", "SO2026120700001"), ("  ＳＯ２０２６\u3000", "SO2026"),
     ("订单😀", "订单😀"), ("绘本套装（12 册）！", "绘本套装（12 册）！")],
)  # fmt: skip
def test_text_folds_full_width_digits_and_letters_but_keeps_chinese_punctuation(raw, stored):
    assert parse_value(TEXT, raw) == stored


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (12, 12),
        ("１２３", 123),
        ("1,299.50", "1299.5"),
        ("￥88", 88),
        ("-3", -3),
        (12.25, "12.25"),
        ("０.１", "0.1"),
    ],
)
def test_numbers_in_any_width_are_numbers(raw, stored):
    assert parse_value(NUMBER, raw) == stored


@pytest.mark.parametrize("raw", ["十二", "12元", "1,2,3", "1e5", True, [], "9" * 20, "12..5"])
def test_what_is_not_a_number_is_refused(raw):
    with pytest.raises(FieldValueError) as refused:
        parse_value(NUMBER, raw)
    assert (refused.value.key, refused.value.reason) == ("amount", "not_number")


@pytest.mark.parametrize(
    "raw", ["2026-12-07", "2026/12/7", "2026年12月7日", "２０２６－１２－０７", "2026.12.07"]
)
def test_dates_are_read_in_the_ways_people_write_them(raw):
    assert parse_value(DATE, raw) == "2026-12-07"
    assert display(DATE, parse_value(DATE, raw)) == "2026年12月7日"


@pytest.mark.parametrize("raw", ["2026-02-30", "明天", "12/07/2026", "2026-13-01", 20261207])
def test_what_is_not_a_date_is_refused(raw):
    with pytest.raises(FieldValueError, match="not_date"):
        parse_value(DATE, raw)


def test_a_choice_matches_its_option_in_traditional_characters_and_any_case():
    assert parse_value(CHOICE, "順豐", simplify=simplify) == "顺丰"
    assert parse_value(CHOICE, "ｅｍｓ", simplify=simplify) == "EMS"
    with pytest.raises(FieldValueError, match="not_option"):
        parse_value(CHOICE, "韵达", simplify=simplify)


def test_empty_input_clears_and_text_has_a_limit():
    assert parse_value(TEXT, "   ") is None
    assert parse_value(NUMBER, None) is None
    with pytest.raises(FieldValueError, match="too_long"):
        parse_value(TEXT, "字" * 501)
    with pytest.raises(FieldValueError, match="not_text"):
        parse_value(TEXT, 42)


def test_merge_is_partial_and_null_clears():
    current = {"order_no": "A1", "amount": 5}
    merged = merge(SPECS, current, {"amount": None, "promised": "2026/1/2"})
    assert merged == {"order_no": "A1", "promised": "2026-01-02"}
    assert current == {"order_no": "A1", "amount": 5}  # not changed in place
    with pytest.raises(FieldValueError, match="unknown_field"):
        merge(SPECS, current, {"nope": "x"})


def test_required_fields_without_a_value_are_missing():
    assert missing_required(SPECS.values(), {}) == [TEXT]
    assert missing_required(SPECS.values(), {"order_no": "A1"}) == []


def test_a_field_applies_to_its_groups_and_to_tickets_not_yet_routed():
    spec = FieldSpec("k", "标签", FieldType.TEXT, group_ids=frozenset({1}))
    assert spec.applies_to(1) and spec.applies_to(None) and not spec.applies_to(2)
    assert FieldSpec("k", "标签", FieldType.TEXT).applies_to(2)


def test_definitions_need_an_ascii_key_and_a_choice_its_options():
    assert check_definition("carrier", FieldType.CHOICE, ["顺丰", " 顺丰 ", "", "ＥＭＳ"]) == (
        "顺丰",
        "EMS",
    )
    assert check_definition("note", FieldType.TEXT, ["ignored"]) == ()
    for key, kind, options, reason in [
        ("订单号", FieldType.TEXT, [], "bad_key"),
        ("Order", FieldType.TEXT, [], "bad_key"),
        ("carrier", FieldType.CHOICE, [" "], "options_required"),
        ("carrier", FieldType.CHOICE, [str(i) for i in range(51)], "too_many_options"),
    ]:
        with pytest.raises(FieldValueError, match=reason):
            check_definition(key, kind, options)


@given(st.one_of(st.text(max_size=60), st.integers(), st.floats(), st.none(), st.booleans()))
def test_any_input_is_a_value_or_a_refusal_never_a_crash(raw):
    for spec in SPECS.values():
        try:
            value = parse_value(spec, raw, simplify=simplify)
        except FieldValueError:
            continue
        assert value is None or parse_value(spec, display(spec, value), simplify=simplify) == value
