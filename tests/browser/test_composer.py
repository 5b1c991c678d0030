"""Issue #20's acceptance in a browser: an agent opens an angry customer's logistics complaint (the
order number in a custom field), types 「这不是我们的问题」, sees the blame-shifting underlined and
explained and the send button held back with its reason, rewrites it in one click, then picks a
suggested reply (the order number filled in), fills the placeholder left and sends; the timeline
shows the reply and the script's use is recorded. The script library and a macro insert scripts
too; on a phone the panel sits under the composer. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kefu.db.models import ScriptUse
from kefu.services.actors import SYSTEM
from kefu.services.fields import definitions
from kefu.services.scripts import macros
from kefu.services.scripts.starter import ensure_starter_library
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

COMPLAINT = "快递五天了还没到，你们的物流太差劲了，气死我了！"
ORDER = "SL20240315"
BLAME = "这不是我们的问题"


@pytest.fixture
def complaint(db, api):
    ensure_starter_library(db)
    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    group = factories.make_group(db, "物流组", calendar={"always_open": True})
    customer = factories.make_customer(db, name="陈静", identities=[("webchat", "visitor-20")])
    ticket = factories.make_ticket(
        db, customer=customer, group=group, channel="webchat", text=COMPLAINT
    )
    changed = api.patch(f"/api/v1/tickets/{ticket.id}", json={
        "intent": "complaint", "category": "logistics", "emotion": "angry",
        "fields": {"order_no": ORDER}})  # fmt: skip
    assert changed.status_code == 200, changed.text
    macros.do_create_macro(
        db, SYSTEM, name="加急处理", actions={"priority": "P1", "tags_add": ["加急"]}
    )
    db.commit()
    agent = factories.make_user(db, groups=[group], name="李娜", email="li.na@example.cn")
    return ticket, agent


def test_the_norms_coach_and_a_suggested_reply_in_the_composer(
    browser: Browser, page_errors: PageErrors, server, db, complaint
):
    ticket, agent = complaint
    desk = new_context(browser, page_errors)
    page = desk.new_page()
    sign_in_page(page, server, agent.email, f"/tickets/{ticket.id}")
    suggestions = page.locator("#suggestions .suggestion")
    expect(suggestions).to_have_count(3)
    expect(suggestions.first.locator(".suggestion-text")).to_contain_text(ORDER)
    screenshot(page, "composer-1-suggestions-1280x720")

    # The blame is underlined, explained, and the send button says why it waits.
    draft = page.locator("#composer-text")
    draft.press_sequentially(BLAME)
    mark = page.locator("#draft-backdrop mark.finding.error")
    expect(mark).to_have_text("不是我们的问题")
    send = page.locator("#composer button[type=submit]")
    expect(send).to_be_disabled()
    expect(page.locator("#send-blocked")).to_have_text("有 1 处需修改：推卸责任")
    finding = page.locator("#norms-list li.error")
    expect(finding).to_contain_text("推卸责任")
    expect(finding).to_contain_text("客户只想知道问题怎么解决")
    box = mark.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator("#draft-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("推卸责任")
    screenshot(page, "composer-2-blame-underlined-1280x720")
    draft.press("Control+Enter")  # held back: nothing goes out
    expect(page.locator("li.msg-outbound")).to_have_count(0)

    # One click rewrites the span; the error is gone and the button is back.
    finding.get_by_role("button", name="改写").click()
    expect(draft).not_to_have_value(re.compile("不是我们的问题"))
    expect(draft).to_have_value(re.compile("非常抱歉给您带来不便"))
    expect(mark).to_have_count(0)
    expect(send).to_be_enabled()
    expect(page.locator("#send-blocked")).to_be_hidden()

    # A suggested reply replaces the draft: the order number filled, a placeholder left to fill.
    pick = suggestions.first.get_by_role("button", name="插入")
    script_id = int(pick.get_attribute("data-script-id") or 0)
    pick.click()
    expect(draft).to_have_value(
        re.compile("^您好，陈先生/女士，您的心情我完全理解.*" + ORDER, re.S)
    )
    placeholder = page.locator("#draft-backdrop mark.placeholder")
    expect(placeholder).to_have_text("[处理时限]")
    expect(send).to_be_disabled()
    expect(page.locator("#send-blocked")).to_have_text("有 1 处需修改：未填占位符")
    screenshot(page, "composer-3-suggestion-inserted-1280x720")
    page.locator("#norms-list li.error").get_by_role("button", name="填写").click()
    page.keyboard.type("今天18点")  # the placeholder was selected: typing replaces it
    expect(placeholder).to_have_count(0)
    expect(send).to_be_enabled()
    sent_text = draft.input_value()
    assert "今天18点" in sent_text and "[" not in sent_text
    send.click()
    expect(draft).to_have_value("")
    reply = page.locator("li.msg-outbound .msg-body")
    expect(reply).to_have_text(sent_text)
    screenshot(page, "composer-4-sent-1280x720")
    db.rollback()
    use = db.scalar(select(ScriptUse).where(ScriptUse.ticket_id == ticket.id))
    assert use is not None and (use.script_id, use.agent_id) == (script_id, agent.id)

    # The script library: searched, filtered by type, a script inserted filled for the case.
    page.get_by_role("button", name="话术库").click()
    dialog = page.locator("#script-browser")
    expect(dialog).to_be_visible()
    page.locator("#script-query").fill("物流")
    page.locator("#script-type").select_option("complaint")
    results = dialog.locator(".browser-scripts li")
    expect(dialog.locator(".browser-type h3")).to_have_text(["投诉"])
    screenshot(page, "composer-5-script-library-1280x720")
    results.first.get_by_role("button", name="插入").click()
    expect(dialog).to_be_hidden()
    expect(draft).to_have_value(re.compile("^陈先生/女士"))  # filled for this case

    # A macro: its actions change the case, the page follows.
    page.locator(".macro-menu summary").click()
    page.get_by_role("button", name="加急处理").click()
    expect(page.locator("#ticket-head .chip.tag")).to_have_text("加急")

    # A phone: the panel under the composer, nothing wider than the screen.
    phone = new_context(browser, page_errors, phone=True, storage_state=desk.storage_state())
    small = phone.new_page()
    small.goto(f"{server}/tickets/{ticket.id}")
    expect(small.locator("#suggestions .suggestion")).to_have_count(3)
    composer_box = small.locator("#composer").bounding_box()
    assist_box = small.locator("#assist").bounding_box()
    assert (
        composer_box
        and assist_box
        and assist_box["y"] >= composer_box["y"] + composer_box["height"]
    )
    small.locator("#composer-text").press_sequentially(BLAME)
    expect(small.locator("#send-blocked")).to_contain_text("推卸责任")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.locator("#composer").scroll_into_view_if_needed()
    screenshot(small, "composer-6-phone-390x844")
    phone.close()
    desk.close()
