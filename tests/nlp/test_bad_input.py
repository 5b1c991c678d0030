"""Any input gives a reading: empty, whitespace, emoji only, huge, control characters,
lone surrogates, mixed scripts — never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.nlp.cues import find_cues
from kefu.nlp.normalize import MAX_CHARS
from kefu.nlp.risks import read_crisis

ODD = [
    "",
    "   ",
    "\n\t\u3000",
    "😡😡😡",
    "🙏",
    "\x00\x01\x1b[31m",
    "\ud800\udfff",
    "ab\u202ecd",
    "？？？",
    "!!!!!!!!",
    "مرحبا Привет 你好",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_input_reads_as_no_crisis(text):
    reading = read_crisis(text)
    assert reading.risks == ()
    assert reading.to_json()["risks"] == []
    find_cues(reading.text)


def test_huge_input_is_truncated_and_still_read():
    reading = read_crisis("我要找记者曝光你们！" + "啊" * 100_000)
    assert [h.risk.value for h in reading.risks] == ["media"]
    assert len(reading.text) <= MAX_CHARS


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=500))
def test_any_text_gives_a_reading(text):
    reading = read_crisis(text)
    assert all(0 <= h.start < h.end <= len(reading.text) for h in reading.risks)
    find_cues(reading.text)
