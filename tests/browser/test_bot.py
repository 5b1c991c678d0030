"""The answering bot in a real browser: a visitor asks in the widget, gets an article's answer
with its link and quick replies, says it did not help (没解决), asks for a person (转人工); the
agent then sees the whole exchange on the ticket page. Screenshots of both, desktop and phone."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kefu.db.models import WebchatChannel
from kefu.demo.webchat import DEMO_CHANNEL_KEY
from kefu.services.actors import SYSTEM
from kefu.services.webchat import channels
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot
from tests.browser.test_ticket_view import sign_in
from tests.browser.widget import ChatWidget, wait_for


def _bot_first(db) -> object:
    """The demo shop's channel with the bot first, for a group that always works."""
    group = factories.make_group(db, "售前咨询组", calendar={"always_open": True})
    channel = db.scalar(select(WebchatChannel).where(WebchatChannel.key == DEMO_CHANNEL_KEY))
    channels.do_update_channel(db, SYSTEM, channel, {"bot_mode": "first", "group_id": group.id})
    db.commit()
    return group


def _converse(widget: ChatWidget) -> None:
    widget.open()
    widget.send("退款多久到账")
    answer = widget.messages("bot").first
    expect(answer.locator(".kf-bot-label")).to_have_text("智能助手")
    article = answer.locator("a.kf-article")
    expect(article).to_have_attribute("target", "_blank")
    expect(article).to_have_attribute("href", re.compile(r"/help/a/kb-"))
    expect(answer.get_by_role("button", name="没解决")).to_be_visible()
    answer.get_by_role("button", name="没解决").click()
    expect(widget.messages("bot")).to_have_count(2)
    expect(answer.get_by_role("button", name="没解决")).to_be_hidden()  # only the newest asks
    widget.messages("bot").nth(1).get_by_role("button", name="转人工").click()
    expect(widget.messages("bot")).to_have_count(3)
    expect(widget.messages("bot").nth(2).locator(".kf-text")).to_contain_text("人工客服")


def test_a_visitor_asks_the_bot_then_a_person_sees_the_whole_exchange(
    browser: Browser, page_errors: PageErrors, server, db, shop, api
):
    group = _bot_first(db)
    agent = factories.make_user(db, name="李娜", email="li.na@example.cn", groups=[group])

    visitor = new_context(browser, page_errors)
    page = visitor.new_page()
    page.goto(shop)
    widget = ChatWidget(page)
    _converse(widget)
    screenshot(page, "bot-widget-desktop")

    items = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )
    ticket_id = items[0]["id"]
    detail = api.get(f"/api/v1/tickets/{ticket_id}").json()
    assert detail["bot"]["handoff_reason"] == "customer_asked"

    desk = new_context(browser, page_errors)
    agent_page = desk.new_page()
    sign_in(agent_page, server, agent.email, f"/tickets/{ticket_id}")
    timeline = agent_page.locator("ol.timeline")
    expect(timeline.locator("li.msg-bot")).to_have_count(3)
    expect(timeline.locator("li.msg-inbound")).to_have_count(3)
    expect(timeline).to_contain_text("退款多久到账")
    expect(timeline).to_contain_text("没解决")
    expect(timeline).to_contain_text("转人工")
    expect(timeline.locator("li.msg-bot .msg-author").first).to_have_text("智能助手")
    screenshot(agent_page, "bot-ticket-page")
    desk.close()
    visitor.close()


def test_the_bot_conversation_on_a_phone(browser: Browser, page_errors: PageErrors, db, shop):
    _bot_first(db)
    phone = new_context(browser, page_errors, phone=True)
    page = phone.new_page()
    page.goto(shop)
    _converse(ChatWidget(page))
    screenshot(page, "bot-widget-phone")
    phone.close()
