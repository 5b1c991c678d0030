"""Acceptance 5 of #18: a visitor on the demo shop writes to customer service, the case appears
through the API with its analysis, and an agent's reply through the API shows up in the widget
without a reload. Screenshots of both screen sizes are kept in test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from kefu.demo.team import AFTERSALE
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot
from tests.browser.widget import ChatWidget, wait_for

COMPLAINT = "我的快递一周了还没到！"
REPLY = "您好，非常抱歉让您久等了！我马上为您查询物流，10 分钟内给您答复。"


def _webchat_ticket(api):
    items = api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    return items[0] if items else None


@pytest.fixture
def aftersale(db):
    """The group the demo channel routes to, open around the clock so the test may run any time;
    made before the channel (``shop``), as in the demo."""
    return factories.make_group(db, name=AFTERSALE, calendar={"always_open": True})


def test_visitor_on_the_demo_shop_gets_an_agents_reply_live(
    browser: Browser, page_errors: PageErrors, db, aftersale, shop, client_for, api
):
    group = aftersale
    agent = factories.make_user(
        db, role="agent", name="王磊", email="wang.lei@example.cn", groups=[group]
    )
    agent_api = client_for(agent)
    assert agent_api.put("/api/v1/users/me/status", json={"status": "online"}).status_code == 200

    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(shop)
    expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    widget = ChatWidget(page)
    widget.open()
    expect(page.locator(".kf-subtitle")).to_contain_text("客服在线")
    widget.send(COMPLAINT)
    expect(widget.sent()).to_have_count(1)
    expect(widget.sent().locator(".kf-text")).to_have_text(COMPLAINT)
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    ticket = wait_for(lambda: _webchat_ticket(api))
    detail = wait_for(lambda: _analysed(api.get(f"/api/v1/tickets/{ticket['id']}").json()))
    first = detail["messages"][0]
    assert first["body_text"] == COMPLAINT and first["channel"] == "webchat"
    assert first["direction"] == "inbound" and first["analysis"]
    assert detail["category"] == "logistics"  # 物流
    assert detail["group_id"] == group.id
    for field in ("emotion", "intent", "sentiment", "priority"):
        assert detail[field], field

    reply = agent_api.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"text": REPLY})
    assert reply.status_code == 201, reply.text
    answer = widget.messages("agent")
    expect(answer).to_have_count(1)
    expect(answer.locator(".kf-text")).to_have_text(REPLY)
    expect(answer.locator(".kf-author")).to_have_text("王磊")
    assert page.evaluate("window.__sameDocument") is True
    # The panel is open and the page visible: the widget acknowledged the reply and read it.
    wait_for(lambda: _state_of(api, ticket["id"], reply.json()["id"]) == "read")
    screenshot(page, "demo-shop-1280x720")

    # The same visitor on a phone (the same browser storage): the conversation is there.
    phone = new_context(browser, page_errors, phone=True, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(shop)
    ChatWidget(small).open()
    expect(small.locator(".kf-msg[data-from='agent'] .kf-text")).to_have_text(REPLY)
    expect(small.locator(".kf-msg[data-from='visitor'] .kf-text")).to_have_text(COMPLAINT)
    panel = small.locator(".kf-panel").bounding_box()
    assert panel == {"x": 0, "y": 0, "width": 390, "height": 844}  # the panel is the screen
    # The agent answered, so the chat is theirs: no queue any more, and the visitor is told who.
    expect(small.locator(".kf-queue")).to_be_hidden()
    screenshot(small, "demo-shop-390x844")
    phone.close()

    # The same conversation with the widget in English (the shop page itself stays Chinese).
    english = context.new_page()
    english.goto(f"{shop}?lang=en")
    launcher = english.locator(".kf-launcher")
    if launcher.get_attribute("aria-expanded") != "true":  # the widget remembers it was open
        launcher.click()
    expect(english.locator(".kf-input")).to_have_attribute("placeholder", "Type a message…")
    expect(english.locator(".kf-msg[data-from='agent'] .kf-text")).to_have_text(REPLY)
    screenshot(english, "demo-shop-1280x720-en")
    english_phone = new_context(
        browser, page_errors, phone=True, storage_state=context.storage_state()
    )
    small_en = english_phone.new_page()
    small_en.goto(f"{shop}?lang=en")
    small_en.locator(".kf-launcher").click()
    expect(small_en.locator(".kf-input")).to_be_visible()
    expect(small_en.locator(".kf-input")).to_have_attribute("placeholder", "Type a message…")
    expect(small_en.locator(".kf-msg[data-from='agent'] .kf-text")).to_have_text(REPLY)
    screenshot(small_en, "demo-shop-390x844-en")
    english_phone.close()
    context.close()


def _analysed(detail):
    return detail if detail["messages"] and detail["messages"][0]["analysis"] else None


def _state_of(api, ticket_id, message_id):
    messages = api.get(f"/api/v1/tickets/{ticket_id}").json()["messages"]
    return next(m.get("delivery_state") for m in messages if m["id"] == message_id)
