"""The knowledge base in a browser: a customer searches the portal as they type, opens the
article, says it did not help and adds a comment; an agent finds the answer in the ticket page's
panel and inserts it into the reply. Editors' pages are screenshotted in both languages and both
sizes (test-artifacts/kb-*.png) for people to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kefu.db.models import KbFeedback
from kefu.services.kb import feedback, index
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page


def _switch(page: Page, server: str, language: str, back: str) -> None:
    page.goto(f"{server}/language?to={language}&back={back}")


def test_a_customer_searches_reads_and_answers_the_feedback(
    browser: Browser, page_errors: PageErrors, server, db, demo_kb
):
    context = new_context(browser, page_errors, phone=True)
    page = context.new_page()
    page.goto(f"{server}/help")
    expect(page.locator("h1")).to_have_text("您好，有什么可以帮您？")
    page.locator("#help-q").press_sequentially("退款多久能到账")
    first = page.locator("#help-results .help-hits a").first
    expect(first).to_be_visible()
    screenshot(page, "kb-portal-search-390x844-zh")
    title = first.locator("strong").inner_text()
    first.click()
    expect(page.locator("h1")).to_have_text(title)
    page.get_by_role("button", name="没有解决").click()
    expect(page.locator("#help-feedback")).to_contain_text("很抱歉没能帮到您")
    page.locator("#help-comment").fill("没写周末是否到账")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#help-feedback")).to_contain_text("已收到您的意见")
    screenshot(page, "kb-portal-article-feedback-390x844-zh")
    row = db.scalar(select(KbFeedback))
    assert (row.helpful, row.comment, row.source) == (False, "没写周末是否到账", "portal")
    page.goto(f"{server}/help?q=今天天气怎么样")
    expect(page.locator(".help-no-answer")).to_contain_text("没有找到合适的答案")
    context.close()


def test_an_agent_inserts_an_article_as_a_reply(
    browser: Browser, page_errors: PageErrors, server, db, demo_kb
):
    group = factories.make_group(db, "售后组")
    agent = factories.make_user(db, groups=[group], email="kb.agent@example.cn")
    ticket = factories.make_ticket(
        db, group=group, channel="webchat", text="我退款了，钱多久能到账？"
    )
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, f"/tickets/{ticket.id}")
    panel = page.locator("#kb-search")
    expect(panel).to_be_hidden()  # the third tab beside the composer
    page.get_by_role("tab", name="知识库").click()
    expect(panel.locator("#kb-query")).to_have_value("我退款了，钱多久能到账？")
    hit = panel.locator(".kb-hits .suggestion").first
    expect(hit).to_be_visible()
    panel.locator("#kb-query").fill("发票怎么开")
    expect(hit.locator("strong")).to_contain_text("发票")
    hit.get_by_role("button", name="作为回复插入").click()
    draft = page.locator("#composer-text")
    expect(draft).to_have_value(re.compile(r"发票[\s\S]*\n详细说明：http://.+/help/a/kb-\d+$"))
    screenshot(page, "kb-panel-inserted-1280x720-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    panel.scroll_into_view_if_needed()
    screenshot(page, "kb-panel-390x844-zh")
    context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_screens_of_the_portal_and_the_editors_pages(
    browser: Browser, page_errors: PageErrors, server, db, demo_kb, language
):
    editor = factories.make_user(db, role="supervisor", email=f"kb.editor.{language}@example.cn")
    refund = index.search(db, "退款多久到账", source="portal").hits[0][0]
    for question in ("今天天气怎么样", "明天天气好吗", "天气预报", "宠物可以退吗", "能送到火星吗"):
        index.search(db, question, source="portal")
    for helpful in (True, True, False):
        feedback.do_vote(db, refund, helpful=helpful, source="portal")
    db.commit()
    tag = "zh" if language == "zh-CN" else "en"
    for phone in (False, True):
        size = "390x844" if phone else "1280x720"
        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        _switch(page, server, language, "/help")
        screenshot(page, f"kb-portal-home-{size}-{tag}")
        page.goto(f"{server}/help/a/{refund.key}")
        screenshot(page, f"kb-portal-article-{size}-{tag}")
        sign_in_page(page, server, editor.email, "/kb")
        screenshot(page, f"kb-list-{size}-{tag}")
        page.goto(f"{server}/kb/a/{refund.key}")
        screenshot(page, f"kb-editor-{size}-{tag}")
        page.goto(f"{server}/kb/insights")
        screenshot(page, f"kb-insights-{size}-{tag}")
        expect(page.locator(".kb-topics")).to_contain_text("天气")
        context.close()


def test_no_good_answer_opens_the_web_chat(
    browser: Browser, page_errors: PageErrors, server, db, demo_kb, shop
):
    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(f"{server}/help?q=今天天气怎么样")
    expect(page.locator(".help-no-answer")).to_contain_text("没有找到合适的答案")
    launcher = page.locator(".kf-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.locator(".help-no-answer").get_by_role("button", name="联系在线客服").click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".kf-input")).to_be_visible()
    screenshot(page, "kb-portal-no-answer-chat-1280x720-zh")
    context.close()
