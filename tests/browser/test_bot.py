"""The answering bot in a real browser: a visitor asks in the widget, gets an article's answer
with its link and quick replies, says it did not help (没解决), asks for a person (转人工); the
agent then sees the whole exchange on the ticket page. Screenshots of both, desktop and phone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
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
    factories.make_demo_kb(db)  # the bot answers from the knowledge base
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


def _visitor_and_agent(browser: Browser, page_errors: PageErrors, db, shop, email: str):
    """A visitor on the shop's page (the bot first) and an agent of the channel's group."""
    group = _bot_first(db)
    agent = factories.make_user(db, name="李娜", email=email, groups=[group])
    visitor = new_context(browser, page_errors)
    page = visitor.new_page()
    page.goto(shop)
    return visitor, page, ChatWidget(page), agent


def test_a_visitor_asks_the_bot_then_a_person_sees_the_whole_exchange(
    browser: Browser, page_errors: PageErrors, server, db, shop, api
):
    visitor, page, widget, agent = _visitor_and_agent(
        browser, page_errors, db, shop, "li.na@example.cn"
    )
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


def _closed_today() -> dict[str, object]:
    """Working hours every day, but the team is off today and tomorrow: the bot is on its own."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    days = [(today + timedelta(days=n)).isoformat() for n in (0, 1)]
    return {"weekly": [[["09:00", "18:00"]]] * 7, "official_holidays": False, "closures": days}


def _nobody_working(db) -> None:
    group = factories.make_group(db, "白班组", calendar=_closed_today())
    channel = db.scalar(select(WebchatChannel).where(WebchatChannel.key == DEMO_CHANNEL_KEY))
    channels.do_update_channel(db, SYSTEM, channel, {"bot_mode": "first", "group_id": group.id})
    db.commit()


@pytest.mark.parametrize(("lang", "phone"), [("en", False), ("zh-CN", True)])
def test_out_of_hours_the_bot_takes_a_phone_number_for_the_morning(
    browser: Browser, page_errors: PageErrors, db, shop, api, lang, phone
):
    _nobody_working(db)
    context = new_context(browser, page_errors, phone=phone)
    page = context.new_page()
    page.goto(f"{shop}?lang={lang}")
    english = lang == "en"
    widget = ChatWidget(page, input_label="Message" if english else "输入消息")
    widget.open()
    widget.send("转人工")
    asked = widget.messages("bot").first
    form = asked.locator("form.kf-contact")
    expect(form).to_be_visible()
    expect(page.locator(".kf-offline")).to_be_hidden()  # the bot's form, not the away card
    form.get_by_label("Phone or e-mail" if english else "手机号或邮箱").fill("12345")
    form.get_by_role("button").click()
    expect(form.get_by_role("alert")).not_to_be_empty()
    form.get_by_label("Phone or e-mail" if english else "手机号或邮箱").fill("138 0013 8000")
    form.get_by_label("Your problem (optional)" if english else "遇到的问题（选填）").fill(
        "耳机左边没有声音，想换货"
    )
    screenshot(page, f"bot-contact-form-{lang}")
    form.get_by_role("button").click()
    expect(widget.messages("bot")).to_have_count(2)
    expect(widget.messages("bot").nth(1).locator(".kf-text")).to_contain_text("已为您登记问题")
    expect(form).to_be_hidden()  # it answered the newest message only
    screenshot(page, f"bot-case-opened-{lang}")
    found = api.get("/api/v1/tickets", params={"channel": "webchat"})
    assert found.status_code == 200, found.text
    ticket_id = found.json()["items"][0]["id"]
    detail = api.get(f"/api/v1/tickets/{ticket_id}").json()
    assert detail["bot"]["handoff_reason"] == "out_of_hours_contact"
    assert "离线留言" in detail["tags"]
    context.close()


def test_the_ticket_page_in_english_shows_the_assistant(
    browser: Browser, page_errors: PageErrors, server, db, shop
):
    visitor, page, widget, agent = _visitor_and_agent(
        browser, page_errors, db, shop, "lina@example.cn"
    )
    widget.open()
    widget.send("退款多久到账")
    expect(widget.messages("bot")).to_have_count(1)
    widget.messages("bot").first.get_by_role("button", name="解决了").click()
    expect(widget.messages("bot")).to_have_count(2)
    desk = new_context(browser, page_errors)
    agent_page = desk.new_page()
    sign_in(agent_page, server, agent.email, "/inbox")
    agent_page.goto(f"{server}/language?to=en&back=/inbox")
    ticket_link = agent_page.get_by_role("link", name=re.compile("退款多久到账"))
    expect(ticket_link).to_have_count(0)  # solved by the bot: in nobody's queue
    agent_page.goto(f"{server}/tickets/1")
    timeline = agent_page.locator("ol.timeline")
    expect(timeline.locator("li.msg-bot .msg-author").first).to_have_text("Assistant")
    expect(timeline.locator("li.msg-bot .bot-chip").first).to_contain_text("Bot")
    screenshot(agent_page, "bot-ticket-page-en")
    desk.close()
    visitor.close()


def test_an_admin_turns_the_bot_on_for_a_channel(
    browser: Browser, page_errors: PageErrors, server, db
):
    admin = factories.make_user(db, role="admin", name="周敏", email="zhou.min@example.cn")
    channel = factories.make_webchat_channel(db, name="官方商城")
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in(page, server, admin.email, f"/admin/webchat/{channel.id}")
    page.get_by_label("智能助手").select_option("outside_hours")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/admin/webchat"))
    db.expire_all()
    assert db.get(WebchatChannel, channel.id).bot_mode == "outside_hours"
    page.goto(f"{server}/admin/webchat/{channel.id}")
    expect(page.get_by_label("智能助手")).to_have_value("outside_hours")
    page.get_by_label("智能助手").scroll_into_view_if_needed()
    screenshot(page, "bot-admin-channel-zh")
    page.goto(f"{server}/language?to=en&back=/admin/webchat/{channel.id}")
    expect(page.get_by_label("Assistant")).to_have_value("outside_hours")
    page.get_by_label("Assistant").scroll_into_view_if_needed()
    screenshot(page, "bot-admin-channel-en")
    context.close()
