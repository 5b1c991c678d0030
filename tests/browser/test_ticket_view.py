"""Acceptance 1b of #19 in a real browser: a customer writes on the demo shop; an agent opens the
case, claims it and replies from the ticket page; the customer's widget shows the reply without
a reload, and the agent's page follows its delivery live. A colleague opening the same case is
seen there. Screenshots of each step are kept in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from kefu.demo.team import AFTERSALE
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot
from tests.browser.widget import ChatWidget, wait_for

COMPLAINT = "你们卖的充电宝爆炸了！再不处理我就找媒体曝光"
REPLY = "您好，非常抱歉！请先注意安全，我们马上为您安排专人处理。"
LIVE = 15_000  # ms for what arrives through the sockets (a busy machine is slow)
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def aftersale(db):
    """The group the demo channel routes to, open around the clock; made before the channel."""
    return factories.make_group(db, name=AFTERSALE, calendar={"always_open": True})


def sign_in(page: Page, server: str, email: str, going_to: str) -> None:
    page.goto(f"{server}/login?next={going_to}")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(going_to) + "$"))


def test_an_agent_claims_a_chat_and_replies_from_the_ticket_page(
    browser: Browser, page_errors: PageErrors, server, db, aftersale, shop, client_for, api
):
    agent = factories.make_user(db, name="李娜", email="li.na@example.cn", groups=[aftersale])
    colleague = factories.make_user(
        db, name="王磊", email="wang.lei@example.cn", groups=[aftersale]
    )
    online = client_for(agent).put("/api/v1/users/me/status", json={"status": "online"})
    assert online.status_code == 200  # the widget offers a live chat

    customer = new_context(browser, page_errors)
    shop_page = customer.new_page()
    shop_page.goto(shop)
    widget = ChatWidget(shop_page)
    widget.open()
    widget.send(COMPLAINT)
    expect(widget.sent()).to_have_count(1)
    items = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )
    ticket_id = items[0]["id"]
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket_id}").json()["messages"][0]["analysis"])

    desk = new_context(browser, page_errors)
    page = desk.new_page()
    sign_in(page, server, agent.email, f"/tickets/{ticket_id}")
    first = page.locator("li.msg-inbound").first
    expect(first.locator(".msg-body")).to_contain_text(COMPLAINT)
    expect(first.locator(".chip.priority-P1")).to_be_visible()  # the chips of analysis
    expect(first.locator(".chip.risk").first).to_have_attribute("title", re.compile(".+"))
    expect(first.locator("mark.cue").first).to_be_visible()  # the words that raised them
    expect(page.locator("#ticket-head .clock").first).to_have_text(re.compile(r"\d"))
    screenshot(page, "ticket-view-1-opened-1280x720")

    # A colleague opens the same case: she is told.
    other = new_context(browser, page_errors)
    other_page = other.new_page()
    sign_in(other_page, server, colleague.email, f"/tickets/{ticket_id}")
    expect(page.locator("#presence")).to_have_text("王磊 也在查看此工单", timeout=LIVE)
    other_page.locator("#composer-text").press_sequentially("您好")
    expect(page.locator("#presence")).to_have_text("王磊 正在输入…", timeout=LIVE)
    other.close()

    page.get_by_role("button", name="认领").click()
    expect(page.locator("#assignee")).to_contain_text("李娜")
    expect(page.get_by_role("button", name="认领")).to_have_count(0)
    screenshot(page, "ticket-view-2-claimed-1280x720")

    page.keyboard.press("r")  # the shortcut: reply
    composer = page.locator("#composer-text")
    expect(composer).to_be_focused()
    composer.fill(REPLY)
    composer.press("Control+Enter")
    expect(composer).to_have_value("")  # sent: the composer is empty again

    answer = widget.messages("agent")
    expect(answer).to_have_count(1, timeout=LIVE)
    expect(answer.locator(".kf-text")).to_have_text(REPLY)
    screenshot(shop_page, "ticket-view-3-customer-sees-the-reply-1280x720")

    reply = page.locator("li.msg-outbound").last
    expect(reply.locator(".msg-body")).to_have_text(REPLY)
    # The widget acknowledged it: the state moves on the agent's page without a reload.
    expect(reply.locator(".delivery-state")).to_have_text(re.compile("已送达|已读"), timeout=LIVE)
    screenshot(page, "ticket-view-4-replied-1280x720")

    # Hostile content on the case is text: nothing of it runs.
    hostile = '<img src=x onerror="window.__pwned=1">'
    upload = {"filename": '"><svg onload="window.__pwned=2">.png', "content_type": "image/png"}
    upload["content_base64"] = PNG_BASE64
    noted = api.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"text": hostile, "internal": True, "attachments": [upload]},
    )
    assert noted.status_code == 201, noted.text
    tagged = api.patch(f"/api/v1/tickets/{ticket_id}", json={"tags": ["<b>x</b>"]})
    assert tagged.status_code == 200, tagged.text
    page.reload()
    expect(page.locator("li.msg-note .msg-body")).to_have_text(hostile)
    expect(page.locator(".chip.tag")).to_have_text("<b>x</b>")
    expect(page.locator("li.msg-note .file-name")).to_have_text(upload["filename"])
    assert page.evaluate("window.__pwned") is None

    phone = new_context(browser, page_errors, phone=True, storage_state=desk.storage_state())
    small = phone.new_page()
    small.goto(f"{server}/tickets/{ticket_id}")
    expect(small.locator("#composer-text")).to_be_visible()
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone
    screenshot(small, "ticket-view-5-phone-390x844")
    phone.close()
    desk.close()
    customer.close()
