"""A supervisor finds a customer, merges a duplicate into it through the search and the
preview, and undoes the merge from the history; the panel beside a ticket fits its column.
Screenshots of each step are kept in test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page


def _owners(db: Session, ids: list[int]) -> set[int]:
    db.rollback()
    return set(db.scalars(select(Ticket.customer_id).where(Ticket.id.in_(ids))))


def test_a_supervisor_merges_a_duplicate_customer_and_undoes_it(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    target = factories.make_customer(
        db,
        name="刘经理",
        phone="13812345678",
        tags=["VIP", "企业客户"],
        note="企业采购客户，需要增值税专用发票",
        identities=[("phone", "13812345678"), ("email", "liu@corp.example")],
    )
    factories.make_ticket(db, customer=target, subject="发票开错了", channel="email")
    duplicate = factories.make_customer(
        db, name="刘经理（微信）", identities=[("wechat", "wx-liu-dup")]
    )
    moved = [
        factories.make_ticket(db, customer=duplicate, subject=s, channel="wechat")
        for s in ("订单还没发货", "想改收货地址")
    ]
    supervisor = factories.make_user(db, role="supervisor", name="陈静")

    page = new_context(browser, page_errors).new_page()
    sign_in_page(page, server, supervisor.email, "/customers")
    page.evaluate("window.__samePage = true")
    page.get_by_label("搜索客户").fill("刘经理")  # the list follows the typing
    rows = page.locator(".customer-table tbody tr")
    expect(rows).to_have_count(2)
    assert page.evaluate("window.__samePage === true")  # without reloading the page
    expect(page).to_have_url(f"{server}/customers?q=%E5%88%98%E7%BB%8F%E7%90%86")
    rows.get_by_role("link", name="刘经理", exact=True).click()
    expect(page.get_by_role("heading", name="刘经理", exact=True)).to_be_visible()
    expect(page.locator("#tickets")).to_contain_text("发票开错了")
    screenshot(page, "customers-1-profile")

    page.get_by_role("link", name="合并重复客户").click()
    page.get_by_label("查找重复客户").fill("刘经理")
    page.get_by_role("button", name="查找", exact=True).click()
    candidate = page.locator(".candidates li", has_text="刘经理（微信）")
    expect(candidate).to_be_visible()
    expect(page.locator(".candidates li")).to_have_count(1)  # never the customer itself
    candidate.get_by_role("link", name="预览合并").click()
    preview = page.locator(".merge-preview")
    expect(preview).to_contain_text("wx-liu-dup")
    expect(preview).to_contain_text("订单还没发货")
    expect(preview).to_contain_text("想改收货地址")
    screenshot(page, "customers-2-merge-preview")
    assert _owners(db, [t.id for t in moved]) == {duplicate.id}

    preview.get_by_role("button", name="确认合并").click()
    expect(page.get_by_role("status").filter(has_text="已合并")).to_be_visible()
    expect(page.locator("#tickets")).to_contain_text("订单还没发货")
    expect(page.locator(".merge-history")).to_contain_text("刘经理（微信）")
    assert _owners(db, [t.id for t in moved]) == {target.id}
    screenshot(page, "customers-3-merged")

    page.get_by_role("button", name="撤销合并").click()
    expect(page.get_by_role("status").filter(has_text="合并已撤销")).to_be_visible()
    expect(page.locator("#tickets")).not_to_contain_text("订单还没发货")
    expect(page.locator(".merge-history li.undone")).to_have_count(1)
    expect(page.get_by_role("button", name="撤销合并")).to_have_count(0)
    assert _owners(db, [t.id for t in moved]) == {duplicate.id}
    screenshot(page, "customers-4-undone")


def test_the_panel_fits_a_narrow_column_and_saves_a_note_in_place(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    customer = factories.make_customer(
        db,
        name="示例科技有限公司（刘经理）",
        phone="13812345678",
        tags=["VIP"],
        identities=[("wechat", "oH19dCqgn28s9Dp68GZN9Z3zLIbe"), ("phone", "13812345678")],
    )
    ticket = factories.make_ticket(db, customer=customer, subject="一个很长很长的主题" * 4)
    agent = factories.make_user(db, name="李娜")

    page = new_context(browser, page_errors).new_page()
    sign_in_page(page, server, agent.email, "/customers")
    # The ticket page loads the panel into its side column like this (hx-trigger="load").
    page.evaluate(
        """([customer, ticket]) => {
          const main = document.getElementById('main');
          main.replaceChildren();
          const aside = document.createElement('aside');
          aside.id = 'customer-panel';
          aside.className = 'card';
          aside.style.width = '320px';
          aside.setAttribute('hx-get', `/customers/${customer}/panel?ticket=${ticket}`);
          aside.setAttribute('hx-trigger', 'load');
          main.appendChild(aside);
          htmx.process(aside);
        }""",
        [customer.id, ticket.id],
    )
    panel = page.locator(".customer-panel")
    expect(panel).to_contain_text("138****5678")
    expect(panel).not_to_contain_text("13812345678")
    expect(panel.locator(".cp-tickets li.current")).to_have_count(1)
    width = page.evaluate(
        "() => { const a = document.getElementById('customer-panel'); return [a.scrollWidth, a.clientWidth]; }"
    )
    assert width[0] <= width[1], width  # nothing sticks out of the column

    panel.get_by_text("编辑标签和备注").click()
    panel.get_by_role("textbox", name="备注").fill("下午三点后方便接电话")
    panel.get_by_role("button", name="保存").click()
    expect(page.locator(".customer-panel .cp-note")).to_have_text("下午三点后方便接电话")
    screenshot(page, "customers-5-panel")
    db.rollback()
    db.refresh(customer)
    assert customer.note == "下午三点后方便接电话"
