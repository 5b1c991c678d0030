"""Acceptance 1a of #19: an agent signs in and sees her inbox; a customer message posted through
the API appears in it without a reload, with its emotion and priority chips, and the keyboard
works the list. Screenshots at 1280×720 and 390×844 are kept in test-artifacts/."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

ANGRY = "你们太过分了！快递一个星期还没到，客服也不回，再不处理我就去12315投诉！"


def test_a_customer_message_appears_in_the_inbox_live_with_its_chips(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, integration: httpx.Client
) -> None:
    group = factories.make_group(db, name="售后组", calendar={"always_open": True})
    agent = factories.make_user(db, name="李娜", email="li.na@example.cn", groups=[group])
    factories.make_ticket(
        db, subject="退货运费谁承担？", group=group, assignee_id=agent.id, channel="email"
    )

    page = new_context(browser, page_errors).new_page()
    sign_in_page(page, server, agent.email, "/inbox")
    expect(page.get_by_role("heading", name="我的工单")).to_be_visible()
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(page.locator(".ticket-row .subject-text")).to_have_text("退货运费谁承担？")
    screenshot(page, "inbox-1280x720")

    page.get_by_role("link", name=re.compile("未分配")).click()
    expect(page.get_by_role("heading", name="未分配")).to_be_visible()
    expect(page.locator(".inbox-list .empty")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    posted = integration.post(
        "/api/v1/inbound",
        json={
            "channel": "api",
            "external_id": "shop-msg-1",
            "sender": {"external_id": "buyer-1", "name": "王小明"},
            "text": ANGRY,
        },
    )
    assert posted.status_code == 201, posted.text
    row = page.locator(f'.ticket-row[data-ticket-id="{posted.json()["ticket_id"]}"]')
    expect(row).to_be_visible()
    expect(row.locator(".customer-name")).to_have_text("王小明")
    expect(row.locator(".chip.emotion-angry")).to_have_text("愤怒")
    expect(row.locator(".chip[class*=priority-]")).to_have_text(re.compile(r"^P[1-4] "))
    expect(row.locator(".unread-dot")).to_be_visible()
    expect(page.locator('[data-view-count="unassigned"]')).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True

    # The keyboard: j stands on the case, x chooses it (the bulk bar shows), a takes it.
    page.locator("body").press("j")
    expect(row).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("x")
    expect(row.locator("[data-row-check]")).to_be_checked()
    expect(page.get_by_role("button", name="分配给我")).to_be_visible()
    screenshot(page, "inbox-live-1280x720")
    page.keyboard.press("a")
    expect(page.locator("#bulk-result")).to_contain_text("已分配给我 1 个")
    expect(page.locator('[data-view-count="mine"]')).to_have_text("2")
    expect(page.locator(".inbox-list .empty")).to_be_visible()  # no longer unassigned
    assert page.evaluate("window.__sameDocument") is True

    phone = new_context(browser, page_errors, phone=True).new_page()
    sign_in_page(phone, server, agent.email, "/inbox")
    expect(phone.locator(".ticket-row")).to_have_count(2)
    expect(phone.locator(".chip.emotion-angry")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox is {width}px wide on a 390px phone"
    screenshot(phone, "inbox-390x844")
