"""The speaking rate of an agent's phone turns (domain/speaking_rate.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import speaking_rate as sr


def test_chinese_characters_and_latin_words_count_punctuation_does_not():
    assert sr.spoken_units("您好，请问有什么可以帮您？") == 11
    assert sr.spoken_units("您的 iPhone 15 订单 SO2026 已发货!") == 10  # 您的订单已发货 + 3 words
    assert sr.spoken_units("……！？ ，。") == 0
    assert sr.spoken_units("您的ＩＤ是１２３") == 5  # full-width letters and digits are words too
    assert sr.spoken_units("會員積分") == 4  # traditional characters count the same


def test_a_simple_call_is_flagged_above_200_a_complex_one_above_150():
    text = "您" * 40  # 40 characters in 10 s: 240 per minute
    simple = sr.measure(text, 5.0, 15.0, complex_topic=False)
    assert (simple.rate, simple.limit, simple.fast) == (240, 200, True)
    calm = sr.measure("您" * 30, 0.0, 10.0, complex_topic=False)  # 180
    assert (calm.rate, calm.fast) == (180, False)
    explaining = sr.measure("您" * 30, 0.0, 10.0, complex_topic=True)
    assert (explaining.rate, explaining.limit, explaining.fast) == (180, 150, True)
    at_limit = sr.measure("您" * 25, 0.0, 10.0, complex_topic=True)  # exactly 150: not above
    assert (at_limit.rate, at_limit.fast) == (150, False)


def test_a_turn_too_short_or_without_words_has_no_rate():
    assert sr.measure("好的", 3.0, 3.5, complex_topic=False).rate is None
    assert sr.measure("……", 0.0, 10.0, complex_topic=False).rate is None
    assert not sr.measure("好的", 3.0, 3.0, complex_topic=False).fast


def test_complex_calls_are_complaints_money_accounts_risks_or_said_so():
    simple = {"intent": "inquiry", "category": "logistics", "risks": [], "topic_hint": None}
    assert not sr.is_complex(**simple)
    assert sr.is_complex(**{**simple, "intent": "complaint"})
    assert sr.is_complex(**{**simple, "category": "return_refund"})
    assert sr.is_complex(**{**simple, "category": "price_billing"})
    assert sr.is_complex(**{**simple, "risks": ["media"]})
    assert sr.is_complex(**{**simple, "topic_hint": "Complex: router set-up"})
    assert sr.is_complex(**{**simple, "topic_hint": "技术问题"})
    assert not sr.is_complex(**{**simple, "topic_hint": "delivery"})


def test_a_call_summary_averages_over_all_measured_minutes():
    turns = [
        sr.measure("您" * 40, 0.0, 10.0, complex_topic=False),  # 240, fast
        sr.measure("您" * 20, 10.0, 20.0, complex_topic=False),  # 120
        sr.measure("好", 20.0, 20.2, complex_topic=False),  # too short
    ]
    summary = sr.summarize(turns)
    assert (summary.turns, summary.measured, summary.flagged) == (3, 2, 1)
    assert summary.average_rate == 180  # 60 characters in 20 s
    assert summary.limit == 200
    assert sr.summarize([]).average_rate is None


@given(st.text(max_size=200), st.floats(0, 3600), st.floats(0, 600), st.booleans())
def test_a_rate_is_never_negative_and_fast_means_above_the_limit(text, start, length, complex_):
    measured = sr.measure(text, start, start + length, complex_topic=complex_)
    assert measured.units >= 0
    if measured.rate is None:
        assert not measured.fast
    else:
        assert measured.rate >= 0
        assert measured.fast == (measured.rate > measured.limit)
