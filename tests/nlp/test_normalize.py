"""Normalisation: one form of every message for the models and rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.nlp.normalize import MAX_CHARS, clean, normalize


def test_traditional_becomes_simplified_and_is_noted():
    result = normalize("我已經說過三次了，貨還沒到")
    assert result.text == "我已经说过三次了,货还没到"
    assert result.traditional
    assert not normalize("我已经说过三次了").traditional


def test_full_width_latin_digits_and_punctuation_become_half_width():
    assert normalize("ＯＫ！订单１２３").text == "好的!订单123"


def test_repeated_punctuation_and_shouting_count_as_intensity():
    result = normalize("WTF！！！到底什么时候发货？？？")
    assert (result.exclamation_runs, result.question_runs, result.shouted_words) == (1, 1, 1)
    assert result.intensity == 3
    calm = normalize("请问什么时候发货?")
    assert calm.intensity == 0
    assert normalize("真WTF").shouted_words == 1  # next to Chinese characters too


def test_long_runs_of_one_character_are_collapsed_to_three():
    assert normalize("啊啊啊啊啊啊啊气死了!!!!!!").text == "啊啊啊气死了!!!"


def test_emoji_are_read_as_signals_and_kept():
    result = normalize("太差了😡😡 求求你们快点🙏 上次还不错👍❤️")
    assert result.emoji == ("angry", "angry", "pleading", "positive", "positive")
    assert "😡" in result.text
    assert "\ufe0f" not in result.text


def test_slang_and_pinyin_abbreviations_are_spelled_out():
    assert normalize("客服yyds").text == "客服永远的神"
    assert normalize("TMD 又没发货").text == "他妈的 又没发货"
    assert normalize("这个nb").text == "这个牛逼"
    assert normalize("snb").text == "snb"  # only whole Latin words


def test_personal_data_and_order_numbers_become_tokens():
    text = normalize(
        "手机13812345678，身份证110101199003071234，卡号6222 0212 3456 7890，订单SL20240315001，邮箱wang@example.cn"
    )
    assert text.text == "手机 <phone> ,身份证 <idcard> ,卡号 <card> ,订单 <order> ,邮箱 <email>"
    assert "1381234" not in text.text


def test_control_characters_surrogates_and_whitespace_are_cleaned():
    assert clean("\x00你\u200b好\ud800\n\n\t 吗\x7f ") == "你好 吗"
    assert clean(None) == ""  # type: ignore[arg-type]


def test_long_text_is_truncated_and_marked():
    result = normalize("退款" * 60_000)
    assert result.truncated and result.original_length == 120_000
    assert len(result.text) <= MAX_CHARS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_gives_a_bounded_normalized_form(text):
    result = normalize(text)
    assert isinstance(result.text, str) and len(result.text) <= MAX_CHARS * 3
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in result.text)
    assert result.text == result.text.strip()
    result.text.encode("utf-8")  # always valid


def test_taiwan_dollars_are_not_slang():
    assert "nt$360" in normalize("信用卡已扣款NT$360").text.replace(" ", "")
    assert "脑瘫" not in normalize("月費 NT 599 太貴").text
    assert "脑瘫" in normalize("你nt吧").text  # the slang itself is still read


def test_a_reviews_stars_are_said_in_words_so_five_is_not_three():
    assert normalize("★★★★★ 民宿比照片还好看").text == "五星 民宿比照片还好看"
    assert normalize("★★☆☆☆ 配送太慢").text == "二星 配送太慢"
    assert normalize("給五顆星⭐⭐⭐⭐⭐").text == "给五颗星 五星"
