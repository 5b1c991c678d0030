"""Acceptance 1d of #19: an admin adds a routing rule in the browser, puts it first (dragging it,
then with the keyboard's move buttons), tries a message in the tester, and a new customer message
delivered through /api/v1/inbound is routed by that rule, for the reason the tester gave.
Screenshots of each step are kept in test-artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Group, Ticket
from kefu.services.cases import routing
from kefu.services.sla import clocks as sla
from tests import factories
from tests.browser.conftest import PHONE, PageErrors, new_context, screenshot, sign_in_page

MESSAGE = "我的快递三天了还没到，物流一直不更新，麻烦帮我查一下"


def _order(db: Session) -> list[str]:
    db.rollback()
    return [r.name for r in routing.list_rules(db)]


def test_an_admin_adds_a_rule_tests_it_and_a_new_message_is_routed_by_it(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, engine, integration
) -> None:
    for name in ("售前组", "售后组", "投诉处理组", "技术支持组", "合规组", "产品安全组"):
        factories.make_group(db, name=name)
    express = factories.make_group(db, name="物流专线组")
    routing.ensure_default_rules(db)  # 「售后服务」 takes logistics cases, at the end of seven
    db.commit()
    admin = factories.make_user(db, role="admin", name="周敏", email="zhou.min@example.cn")

    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, admin.email, "/admin/routing")
    expect(page.locator("#rule-list > li")).to_have_count(7)
    screenshot(page, "admin-routing-1-rules")

    # Add the rule: logistics cases to the express team.
    page.get_by_role("link", name="新建规则").click()
    page.get_by_label("名称").fill("物流专线")
    page.get_by_label("分派到分组").select_option(label="物流专线组")
    page.get_by_role("group", name="类别").get_by_label("物流配送").check()
    page.get_by_role("group", name="渠道").get_by_label("接口").check()
    screenshot(page, "admin-routing-2-new-rule")
    page.get_by_role("button", name="添加规则").click()
    expect(page.locator(".alert-ok")).to_contain_text("规则已添加到列表末尾")
    rule = page.locator("li.rule", has_text="物流专线")
    expect(rule.locator(".rule-position")).to_have_text("8")
    assert _order(db)[-1] == "物流专线"

    # Drag it above the first rule; the order is saved at once.
    with page.expect_response(re.compile(r"/admin/routing/order$")) as saved:
        rule.locator(".drag-handle").drag_to(
            page.locator("li.rule").first, target_position={"x": 40, "y": 4}
        )
    assert saved.value.status == 204
    expect(rule.locator(".rule-position")).to_have_text("1")
    assert _order(db)[0] == "物流专线"

    # The keyboard does the same with the move buttons; focus stays on the rule's buttons.
    down = rule.get_by_role("button", name="下移 物流专线")
    down.focus()
    with page.expect_response(re.compile(r"/admin/routing/order$")):
        page.keyboard.press("Enter")
    expect(rule.locator(".rule-position")).to_have_text("2")
    expect(page.locator("#order-status")).to_have_text("「物流专线」已移到第 2 位")
    up = rule.get_by_role("button", name="上移 物流专线")
    up.focus()
    with page.expect_response(re.compile(r"/admin/routing/order$")):
        page.keyboard.press("Enter")
    expect(rule.locator(".rule-position")).to_have_text("1")
    expect(rule.get_by_role("button", name="下移 物流专线")).to_be_focused()  # ↑ is disabled now
    assert _order(db)[0] == "物流专线"
    page.reload()
    expect(page.locator("li.rule").first).to_contain_text("物流专线")
    screenshot(page, "admin-routing-3-reordered")

    # The tester: which rule would take this message, and why.
    tester = page.locator("#tester")
    tester.get_by_label("客户消息").fill(MESSAGE)
    tester.get_by_label("渠道").select_option("api")
    tester.get_by_role("button", name="测试路由").click()
    result = page.locator("#trial-result")
    expect(result.locator(".trial-verdict")).to_contain_text("命中规则 「物流专线」 → 物流专线组")
    expect(result.locator(".trial-hit")).to_contain_text("物流专线")
    expect(result.locator(".trial-later", has_text="售后服务")).to_be_visible()
    promised = result.locator(".trial-reason").inner_text().split("：", 1)[1].strip()
    assert promised.startswith("规则「物流专线」→ 物流专线组")
    result.scroll_into_view_if_needed()
    screenshot(page, "admin-routing-4-tester")
    assert db.scalar(select(Ticket.id)) is None  # the tester made no case

    # A new customer message through the API is routed by the rule, for that reason.
    delivered = integration.post(
        "/api/v1/inbound",
        json={
            "channel": "api",
            "external_id": "order-msg-1",
            "sender": {"external_id": "buyer-1", "name": "王小明"},
            "text": MESSAGE,
        },
    )
    assert delivered.status_code == 201, delivered.text
    ticket_id = delivered.json()["ticket_id"]
    db.rollback()
    sla.sweep_until_done(make_session_factory(writer_bind(engine)), utcnow)
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.group_id == express.id
    reason = db.scalar(
        select(AuditEvent.after["reason"].as_string()).where(
            AuditEvent.action == "ticket.route", AuditEvent.ticket_id == ticket_id
        )
    )
    assert reason == promised
    assert db.get(Group, express.id) is not None

    page.set_viewport_size(PHONE)
    page.goto(f"{server}/admin/routing")
    expect(page.locator("li.rule").first).to_contain_text("物流专线")
    screenshot(page, "admin-routing-5-phone")
    context.close()


def test_an_agent_who_opens_an_admin_page_by_url_sees_a_403_page(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    agent = factories.make_user(db, name="李娜", email="li.na@example.cn")
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, "/account")
    expect(page.get_by_role("link", name="管理")).to_have_count(0)  # not in her menu
    answer = page.goto(f"{server}/admin/routing")
    assert answer is not None and answer.status == 403
    expect(page.locator(".error-status")).to_have_text("403")
    expect(page.get_by_role("heading", level=1)).to_have_text("没有权限执行此操作")
    screenshot(page, "admin-routing-6-agent-403")
    context.close()
