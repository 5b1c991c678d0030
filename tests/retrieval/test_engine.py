"""Searching the demo knowledge base: the right article, its score, and "no good answer"."""

from __future__ import annotations

from functools import lru_cache

import pytest

from kefu.cli_kb import DEMO_KB
from kefu.retrieval.engine import Doc, Index, doc_of
from kefu.retrieval.folder import read_folder


@lru_cache(maxsize=1)
def demo() -> Index:
    return Index.build(doc_of(a) for a in read_folder(DEMO_KB))


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("退钱一般几天能到账", "kb-026"),  # colloquial: 退钱 for 退款
        ("退款幾天到帳？", "kb-026"),  # traditional characters
        ("換貨的話運廢險能用嗎", "kb-028"),  # traditional, and a homophone typo of 运费险
        ("7天无理由退货怎么申请", "kb-022"),  # digits for 七
        ("我的快递一直显示签收了但是我根本没收到", "kb-006"),
        ("发票抬头写错了可以重新开吗", "kb-039"),
    ],
)
def test_finds_the_article(question, article):
    result = demo().search(question)
    assert result.answered
    assert result.best is not None and result.best.id == article


def test_hits_are_ranked_with_scores_in_unit_range():
    result = demo().search("运费怎么算，满多少包邮")
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.hits) <= 5


@pytest.mark.parametrize("question", ["今天天气怎么样", "电饭煲煮米饭水放多少合适"])
def test_says_no_good_answer_off_topic(question):
    result = demo().search(question)
    assert not result.answered
    assert result.best is None


@pytest.mark.parametrize("question", ["", "   ", "？？？", "😀"])
def test_an_empty_question_finds_nothing(question):
    result = demo().search(question)
    assert result.hits == () and not result.answered


def test_an_empty_index_finds_nothing():
    index = Index.build([])
    assert len(index) == 0
    assert index.search("退款").hits == ()


def test_synonyms_make_an_article_findable():
    docs = [
        Doc("a", "会员积分", "积分可在结算时抵扣现金。"),
        Doc("b", "售后维修", "请联系售后网点。", synonyms=("家电坏了找谁修",)),
    ]
    index = Index.build(docs)
    assert index.search("家电坏了找谁修").hits[0].id == "b"


def test_the_end_of_a_long_article_is_searched():
    filler = "本店商品均由正规渠道采购。" * 300  # 3,900 characters
    docs = [
        Doc("long", "购物须知", filler + "购买无人机需实名登记。"),
        Doc("other", "积分规则", "积分可在结算时抵扣现金。"),
    ]
    assert Index.build(docs).search("无人机实名登记").hits[0].id == "long"
