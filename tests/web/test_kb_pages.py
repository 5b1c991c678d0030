"""/kb: the editors' pages — list and filters, the editor with preview, status, restore,
import (all or nothing) and export, insights; agents are refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from kefu.db.models import KbArticle
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb
from tests import factories
from tests.kb_data import publish, publish_shelf

XSS = '<script>alert("kb")</script><img src=x onerror=alert(1)>[x](javascript:alert(1))'


@pytest.fixture
def editor(db, sign_in):
    return sign_in(factories.make_user(db, role="supervisor"))


def test_agents_get_no_kb_pages_and_no_nav_link(db, sign_in):
    agent = sign_in(factories.make_user(db, role="agent"))
    assert agent.client.get("/kb").status_code == 403
    assert agent.client.get("/kb/insights").status_code == 403
    assert 'href="/kb"' not in agent.client.get("/inbox").text


def test_the_list_filters_by_status_category_and_text(db, editor):
    publish_shelf(db)
    publish(db, "草稿：退款口径", "未定稿", status="draft", category="return_refund")
    page = editor.client.get("/kb")
    assert page.status_code == 200 and 'href="/kb"' in page.text and "会员积分规则" in page.text
    drafts = editor.client.get("/kb", params={"status": "draft"}).text
    assert "草稿：退款口径" in drafts and "会员积分规则" not in drafts
    refunds = editor.client.get("/kb", params={"category": "return_refund"}).text
    assert "草稿：退款口径" in refunds and "开具发票" not in refunds
    assert "开具发票" in editor.client.get("/kb", params={"q": "发票"}).text


def test_write_publish_edit_and_restore_through_the_editor(db, editor):
    made = editor.form("/kb/new", {"title": "退款多久到账", "body": "原路退回。", "category": "return_refund",
                                   "tags": "退款，到账", "synonyms": "钱啥时候回来\n退款几天", "publish": "1"})  # fmt: skip
    assert made.status_code == 303, made.text
    key = made.headers["location"].split("/")[3].split("?")[0]
    article = kb.access_article(db, SYSTEM, key)
    assert (article.status, article.tags, article.synonyms) == (
        "published",
        ["退款", "到账"],
        ["钱啥时候回来", "退款几天"],
    )
    saved = editor.form(f"/kb/a/{key}", {"title": "退款到账时间", "body": "原路退回，3 天内。", "category": "",
                                         "tags": "退款", "synonyms": "", "note": "更准确"})  # fmt: skip
    assert saved.status_code == 303
    page = editor.client.get(f"/kb/a/{key}").text
    assert "v2" in page and "更准确" in page and "恢复此版本" in page
    assert editor.form(f"/kb/a/{key}/restore", {"version": "1"}).status_code == 303
    assert editor.form(f"/kb/a/{key}/status", {"status": "archived"}).status_code == 303
    db.rollback()  # a fresh snapshot
    article = kb.access_article(db, SYSTEM, key)
    assert (article.title, article.current_version, article.status) == (
        "退款多久到账",
        3,
        "archived",
    )


def test_a_bad_form_is_shown_again_with_the_errors_and_saves_nothing(db, editor):
    answer = editor.form(
        "/kb/new", {"title": "", "body": "正文", "category": "weather", "tags": "", "synonyms": ""}
    )
    assert answer.status_code == 422
    assert 'id="error-title"' in answer.text and 'id="error-category"' in answer.text
    assert db.scalar(select(KbArticle.id)) is None
    bad_status = editor.form("/kb/a/kb-001/status", {"status": "gone"})
    assert bad_status.status_code in (404, 422)


def test_preview_and_editor_render_markdown_sanitised(db, editor):
    article = publish(db, f"标题{XSS}", f"**粗体**\n\n{XSS}")
    preview = editor.form("/kb/preview", {"body": f"**粗体** {XSS}"})
    assert "<strong>粗体</strong>" in preview.text
    for html in (
        preview.text,
        editor.client.get(f"/kb/a/{article.key}").text,
        editor.client.get("/kb").text,
    ):
        assert (
            "<script>alert" not in html
            and "<img src=x" not in html
            and 'href="javascript:' not in html
        )


def test_import_of_md_files_and_zip_and_a_broken_one_imports_nothing(db, editor):
    good = "---\nid: faq-1\ntitle: 发票怎么开\n---\n在订单详情申请。\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kb/faq-2.md", "---\nid: faq-2\ntitle: 会员\nstatus: draft\n---\n积分。\n")
    answer = editor.form("/kb/import", files=[("files", ("faq-1.md", good.encode(), "text/markdown")),
                                              ("files", ("more.zip", buffer.getvalue(), "application/zip"))])  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/kb?done=imported-2-0-0"
    broken = editor.form("/kb/import", files=[("files", ("faq-1.md", good.replace("在订单", "改").encode(), "text/markdown")),
                                              ("files", ("bad.md", b"no front matter", "text/markdown"))])  # fmt: skip
    assert broken.status_code == 422 and "bad.md" in broken.text
    assert kb.access_article(db, SYSTEM, "faq-1").body == "在订单详情申请。"
    exported = editor.client.get("/kb/export.zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(exported.content)).namelist()) == [
        "faq-1.md",
        "faq-2.md",
    ]


def test_insights_show_success_topics_and_helpfulness(db, editor):
    from kefu.services.kb import feedback, index

    shelf = publish_shelf(db)
    index.search(db, "发票怎么开", source="portal")
    index.search(db, "火星能送货吗", source="portal")
    index.search(db, "火星送不送", source="portal")
    feedback.do_vote(db, shelf[2], helpful=True, source="portal")
    db.commit()
    page = editor.client.get("/kb/insights", params={"days": "7"}).text
    assert "火星" in page and "开具发票" in page and "100%" in page


def test_insights_show_the_bots_self_service_and_hand_off_reasons(db, editor):
    from kefu.db.base import utcnow
    from kefu.db.models import BotArticleOffer, BotConversation

    now = utcnow()
    for reason, solved, outcome in (
        (None, True, "solved"),
        ("customer_asked", False, "unsolved"),
        ("customer_asked", False, None),
        ("risk", False, None),
    ):
        ticket = factories.make_ticket(db, customer=factories.make_customer(db))
        message = factories.make_reply(db, ticket)
        db.add(BotConversation(ticket_id=ticket.id, channel="webchat", state={},
                               last_message_id=0, handoff_reason=reason,
                               solved_by_bot=solved, started_at=now))  # fmt: skip
        db.add(BotArticleOffer(ticket_id=ticket.id, message_id=message.id,
                               article_key="kb-026", outcome=outcome, offered_at=now))  # fmt: skip
        db.commit()
    page = editor.client.get("/kb/insights", params={"days": "7"}).text
    assert "接待 4 次会话" in page
    assert "自助解决率 25%" in page and "转人工率 75%" in page
    reasons = page.index("转人工原因")
    assert page.index("客户要求人工", reasons) < page.index("存在危机风险", reasons)
    assert "推荐 4 次" in page and "解决了 1 · 没解决 1" in page
