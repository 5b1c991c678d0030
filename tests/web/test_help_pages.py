"""/help: the public self-service portal — search, categories, articles (Markdown sanitised),
feedback with a comment, "no good answer" with the chat, drafts 404, English on request."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from kefu.db.models import KbFeedback
from tests import factories
from tests.kb_data import publish, publish_shelf

XSS = '<script>alert("kb")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def visitor(server):
    with httpx.Client(base_url=server, timeout=30, follow_redirects=False) as client:
        yield client


@pytest.fixture
def articles(db):
    publish_shelf(db)
    refund = publish(db, "退款多久到账", "退款**原路退回**，1-3 个工作日到账。\n\n节假日顺延。",
                     tags=["退款", "到账"], category="return_refund")  # fmt: skip
    draft = publish(db, "内部退款口径", "未定稿。", status="draft", category="return_refund")
    return refund, draft


def test_home_lists_categories_with_their_published_articles(visitor, articles):
    page = visitor.get("/help")
    assert page.status_code == 200
    assert "退换货" in page.text and "退款多久到账" in page.text and "会员积分规则" in page.text
    assert "内部退款口径" not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_search_as_you_type_and_the_no_answer_state_with_the_chat(db, visitor, articles):
    factories.make_webchat_channel(db)
    found = visitor.get(
        "/help/search", params={"q": "退款几天到账"}, headers={"HX-Request": "true"}
    )
    assert (
        "退款多久到账" in found.text
        and "1-3 个工作日到账" in found.text
        and "没有找到合适的答案" not in found.text
    )
    none = visitor.get("/help/search", params={"q": "火星上能送货吗"})
    assert "没有找到合适的答案" in none.text and 'data-action="open-chat"' in none.text
    full = visitor.get("/help", params={"q": "退款几天到账"})
    assert 'value="退款几天到账"' in full.text and "/help/a/kb-005" in full.text
    assert "/chat/widget.js" in full.text


def test_an_article_renders_markdown_and_a_draft_or_unknown_key_is_404(visitor, articles):
    refund, draft = articles
    page = visitor.get(f"/help/a/{refund.key}")
    assert page.status_code == 200 and "<strong>原路退回</strong>" in page.text
    assert "这篇文章解决了您的问题吗？" in page.text
    assert visitor.get(f"/help/a/{draft.key}").status_code == 404
    assert visitor.get("/help/a/nope").status_code == 404


def test_titles_and_bodies_cannot_inject_markup(db, visitor):
    publish_shelf(db)
    bad = publish(db, f"标题{XSS}", f"正文{XSS}\n\n[点我](javascript:alert(1))", category="other")
    for html in (visitor.get(f"/help/a/{bad.key}").text, visitor.get("/help").text,
                 visitor.get("/help/search", params={"q": "标题 正文"}).text):  # fmt: skip
        assert "<script>alert" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html


def test_feedback_then_a_comment_and_a_foreign_page_is_refused(db, visitor, server, articles):
    refund, _ = articles
    own = {"Origin": server}
    voted = visitor.post(f"/help/a/{refund.key}/feedback", data={"helpful": "no"}, headers=own)
    assert voted.status_code == 200 and "很抱歉没能帮到您" in voted.text
    row = db.scalar(select(KbFeedback))
    token = voted.text.split('name="token" value="')[1].split('"')[0]
    commented = visitor.post(f"/help/a/{refund.key}/comment",
                             data={"id": str(row.id), "token": token, "comment": "没说周末"}, headers=own)  # fmt: skip
    assert commented.status_code == 200 and "已收到您的意见" in commented.text
    forged = visitor.post(f"/help/a/{refund.key}/comment",
                          data={"id": str(row.id), "token": "x", "comment": "改"}, headers=own)  # fmt: skip
    assert forged.status_code == 404
    foreign = visitor.post(f"/help/a/{refund.key}/feedback", data={"helpful": "yes"},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    bad = visitor.post(f"/help/a/{refund.key}/feedback", data={"helpful": "maybe"}, headers=own)
    assert bad.status_code == 422
    db.rollback()
    assert [(f.helpful, f.comment) for f in db.scalars(select(KbFeedback))] == [(False, "没说周末")]


def test_lang_en_is_remembered_and_the_portal_speaks_english(visitor, articles):
    switched = visitor.get("/help", params={"lang": "en", "q": "退款"})
    assert (
        switched.status_code == 303 and switched.headers["location"] == "/help?q=%E9%80%80%E6%AC%BE"
    )
    page = visitor.get("/help")
    assert '<html lang="en">' in page.text and "Help Center" in page.text


def test_too_many_searches_are_told_in_the_page(visitor, articles, live_app):
    from kefu.services.kb.feedback import KbLimits

    shared = live_app.state.kb_limits
    live_app.state.kb_limits = KbLimits(1, 1)
    try:
        assert "退款多久到账" in visitor.get("/help/search", params={"q": "退款"}).text
        limited = visitor.get("/help/search", params={"q": "退款"})
    finally:
        live_app.state.kb_limits = shared
    assert limited.status_code == 200 and "搜索太频繁了" in limited.text
