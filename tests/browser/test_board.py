"""The supervisor board in a browser: a supervisor sees the figures, reassigns a case and puts an
agent on a break, and a crisis opened elsewhere appears without a reload; on a phone too.
Screenshots: test-artifacts/board-*.png."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from kefu.db.models import Ticket, User
from tests import factories
from tests.board_data import HOSTILE, arrange, fresh
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page


def _ready(page: Page) -> None:
    """The live connection is up (a change made now reaches the page). Polled from here: the
    page's CSP refuses the eval that ``wait_for_function`` polls with."""
    deadline = time.monotonic() + 10
    while not page.evaluate("Boolean(window.kefu?.socket?.readyState === 1)"):
        assert time.monotonic() < deadline, "the live connection did not open"
        page.wait_for_timeout(50)


def test_a_supervisor_works_from_the_board(
    browser: Browser,
    page_errors: PageErrors,
    server: str,
    db: Session,
    engine,
    api: httpx.Client,
) -> None:
    b = arrange(db, engine)
    page = new_context(browser, page_errors).new_page()
    sign_in_page(page, server, b.supervisor.email, "/board")
    _ready(page)
    card = page.locator(f'article[data-group="{b.after_sales.id}"]')
    expect(card.locator('[data-figure="breached"]')).to_have_text("1")
    expect(card.locator('[data-figure="waiting_chats"]')).to_have_text("1")
    expect(page.locator("#board-agents").get_by_text(HOSTILE)).to_be_visible()  # as text
    # The case loop's approvals list, loaded into the board (none waiting in this arrangement).
    expect(page.locator("#board-approvals #approvals")).to_be_visible()
    screenshot(page, "board-desktop")

    # Give the case at risk to 张伟.
    item = page.locator(f'#board-sla li[data-ticket="{b.at_risk.id}"]')
    item.get_by_role("button", name=f"改派工单 #{b.at_risk.id}").click()
    expect(item.locator("select")).to_be_focused()
    screenshot(page, "board-desktop-reassign")
    item.locator("select").select_option(str(b.agent.id))
    item.get_by_role("button", name="分配").click()
    expect(page.locator(".toast").filter(has_text="已分配给 张伟")).to_be_visible()
    expect(item.locator(".board-ticket-meta")).to_contain_text("张伟")
    fresh(db)
    assert db.get(Ticket, b.at_risk.id).assignee_id == b.agent.id

    # Put 张伟 on a break: no new cases for him, his group's online count drops.
    row = page.locator(f'tr[data-agent="{b.agent.id}"]')
    row.locator("select").select_option("break")
    row.get_by_role("button", name="设置").click()
    expect(page.locator(".toast").filter(has_text="张伟 的状态已设为小休")).to_be_visible()
    expect(row.locator(".status-dot")).to_have_class(re.compile(r"status-break"))
    expect(card).to_contain_text("在线 0 / 2")
    fresh(db)
    assert db.get(User, b.agent.id).status == "break"

    # A crisis opened by someone else appears without a reload.
    opened = api.post(
        "/api/v1/tickets",
        json={
            "customer_id": b.crisis.customer_id,
            "subject": "顾客称要向媒体曝光",
            "text": "再不处理我就找记者曝光你们！",
            "priority": "P1",
            "group_id": b.after_sales.id,
        },
    )
    assert opened.status_code == 201, opened.text
    crisis = page.locator(f'#board-crises li[data-ticket="{opened.json()["id"]}"]')
    expect(crisis).to_contain_text("顾客称要向媒体曝光")
    expect(card.locator('[data-figure="crises"]')).to_have_text("2")
    screenshot(page, "board-desktop-after")
    page.context.close()


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"


def test_the_board_on_a_phone(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, engine
) -> None:
    b = arrange(db, engine)
    page = new_context(browser, page_errors, phone=True).new_page()
    sign_in_page(page, server, b.supervisor.email, "/board")
    _fits(page)
    expect(page.locator(".board-jump")).to_be_visible()
    screenshot(page, "board-phone")
    crisis = page.locator(f'#board-crises li[data-ticket="{b.crisis.id}"]')
    crisis.get_by_role("button", name=f"改派工单 #{b.crisis.id}").click()
    expect(crisis.locator("select")).to_be_focused()
    _fits(page)  # a long name in the menu does not push its button off the screen
    expect(crisis.get_by_role("button", name="分配")).to_be_in_viewport()
    screenshot(page, "board-phone-reassign")
    page.locator(".board-jump").get_by_role("link", name="客服人员").click()
    row = page.locator(f'tr[data-agent="{b.agent.id}"]')
    expect(row.locator("select")).to_be_in_viewport()
    screenshot(page, "board-phone-agents")
    page.context.close()


def test_an_agent_gets_a_403_page(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    agent = factories.make_user(db)
    page = new_context(browser, page_errors).new_page()
    page.goto(f"{server}/login?next=/board")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".error-status")).to_have_text("403")
    expect(page.get_by_role("link", name="主管看板")).to_have_count(0)  # not in the menu either
    page.context.close()
