"""Measures: search success, helpfulness per article, unanswered questions grouped by topic."""

from __future__ import annotations

from datetime import timedelta

from kefu.db.base import utcnow
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb
from kefu.services.kb import feedback, index, measures


def _today():
    now = utcnow()
    return measures.Period(now - timedelta(days=1), now + timedelta(minutes=1))


def test_success_rate_and_helpfulness_count_what_happened(db, shelf):
    article = kb.do_create_article(db, SYSTEM, title="退款多久到账", body="原路退回，1-3 个工作日到账。",
                                   tags=["退款", "到账"], status="published")  # fmt: skip
    index.search(db, "退款多久到账", source="portal")
    index.search(db, "退款到账要几天", source="agent")
    index.search(db, "火星能送吗", source="portal")
    for helpful in (True, True, False):
        feedback.do_vote(db, article, helpful=helpful, source="portal")
    db.commit()
    found = measures.insights(db, _today())
    assert (found.success.searches, found.success.answered) == (3, 2)
    assert found.success.by_source["portal"] == (2, 1)
    [row] = found.articles
    assert (row.key, row.yes, row.no, round(row.rate or 0, 2)) == (article.key, 2, 1, 0.67)
    assert found.bot is None


def test_unanswered_questions_group_by_shared_words():
    topics = measures.group_questions([
        "发票怎么开", "电子发票抬头写错了", "怎么开增值税发票", "火星能不能送", "能送到火星吗", "会员",
    ])  # fmt: skip
    assert [t.count for t in topics][:2] == [3, 2]
    assert "发票" in topics[0].label and "火星" in topics[1].label
    assert topics[0].examples == ["发票怎么开", "电子发票抬头写错了", "怎么开增值税发票"]


def test_searches_typed_on_count_once_as_the_last_one(db, shelf):
    for typed in ("火", "火星", "火星能送吗"):
        index.search(db, typed, source="portal")
    index.search(db, "开具", source="agent")  # another source between them changes nothing
    index.search(db, "开具发票", source="agent")
    index.search(db, "火星能送吗", source="portal")  # the same search again: once
    index.search(db, "会员积分", source="portal")
    db.commit()
    found = measures.search_success(db, _today())
    assert found.by_source == {"portal": (2, 1), "agent": (1, 1)}
    assert [t.examples for t in measures.unanswered_topics(db, _today())] == [["火星能送吗"]]
