"""How questions and articles are read: normalisation, lexicon, sounds."""

from __future__ import annotations

from kefu.retrieval import lexicon
from kefu.retrieval.text import bigrams, read, sound, sounds


def test_traditional_and_full_width_read_as_simplified():
    assert read("退貨運費ＡＢＣ").text == read("退货运费abc").text


def test_colloquial_forms_add_the_article_word():
    assert "退款" in read("钱什么时候退给我，退钱太慢了").words
    assert "积分" in read("积份能当钱用吗").words  # a common misspelling
    assert "七天无理由" in read("7天無理由可以退嗎").words


def test_one_character_forms_count_only_as_whole_words():
    lex = lexicon.build({"优惠券": ["券"]})
    assert lex.expand("用券", ["用", "券"]) == ["优惠券"]
    assert lex.expand("证券", ["证券"]) == []


def test_longer_forms_win():
    lex = lexicon.build({"退货": ["退回"], "退款": ["退回钱"]})
    assert lex.expand("退回钱", ["退回", "钱"]) == ["退款"]


def test_homophones_share_their_sound():
    assert sounds("运废险") == sounds("运费险")
    assert sound("之") == sound("资")  # zh and z merged
    assert sound("陈") == sound("成")  # -n and -ng merged


def test_bigrams_keep_latin_words_whole():
    assert bigrams("iphone15的屏幕") == ["iphone15", "的屏", "屏幕"]
