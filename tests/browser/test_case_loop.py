"""Acceptance 1c in a browser: a specialist takes a complaint through every stage of the loop; her
compensation above her authority waits until a supervisor approves it from the supervisor board,
and her panel shows the approval live. Screenshots of each stage are kept in test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot
from tests.conftest import ClientFactory


def sign_in(page: Page, server: str, email: str, target: str) -> None:
    page.goto(f"{server}/login?next={target}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}{target}")


def at_stage(page: Page, name: str) -> None:
    expect(page.locator(".stage-step[aria-current=step] .stage-name")).to_have_text(name)


def test_a_specialist_takes_a_complaint_round_the_loop_and_a_supervisor_approves_her_compensation(
    server: str,
    db: Session,
    browser: Browser,
    page_errors: PageErrors,
    client_for: ClientFactory,
) -> None:
    group = factories.make_group(db, name="投诉处理组")
    specialist = factories.make_user(db, role="specialist", groups=[group], name="郑丽")
    supervisor = factories.make_user(db, role="supervisor", groups=[group], name="陈静")
    ticket = factories.make_ticket(
        db,
        text="买的杯子到货就裂了，这已经是第二次了，太让人失望了！",
        intent="complaint",
        category="logistics",
        group=group,
    )
    # The supervisor keeps the approvals list open; nothing waits for her yet.
    theirs = new_context(browser, page_errors)
    boss = theirs.new_page()
    sign_in(boss, server, supervisor.email, "/board")  # the supervisor board
    expect(boss.locator("#approvals")).to_contain_text("没有等你审批的补偿")
    hers = new_context(browser, page_errors)
    page = hers.new_page()
    sign_in(page, server, specialist.email, f"/tickets/{ticket.id}/case/page")
    at_stage(page, "受理登记")
    expect(page.locator(".case-missing")).to_contain_text("关键信息")
    screenshot(page, "case-loop-1-registered")

    # 受理登记: the facts, then on to the analysis.
    page.fill(
        "textarea[name=facts]", "订单 SL2026 的玻璃杯到货破裂，第二次发生；客户要求换新并补偿"
    )
    page.get_by_role("button", name="保存并进入「分析评估」").click()
    at_stage(page, "分析评估")
    # 分析评估: the category and a 5-Why chain.
    page.select_option("select[name=category]", "quality")
    page.fill("input[name=why_1]", "为什么杯子会破？运输中受到挤压")
    page.fill("input[name=why_2]", "为什么会被挤压？只用了单层气泡膜")
    page.fill("input[name=why_3]", "为什么只用单层？包装规范没有区分易碎品")
    screenshot(page, "case-loop-2-analysis")
    page.get_by_role("button", name="保存并进入「处理解决」").click()
    at_stage(page, "处理解决")
    expect(page.locator(".case-record")).to_contain_text("包装规范没有区分易碎品")

    # 处理解决: ¥300 is above a specialist's ¥200, so it waits for a supervisor.
    page.fill("textarea[name=solution]", "补发新杯子（双层包装），并补偿现金")
    page.select_option("select[name=kind]", "cash")
    page.fill("input[name=amount]", "300")
    page.get_by_role("button", name="保存并进入「跟进反馈」").click()
    expect(page.locator(".approval")).to_contain_text("需要客服主管审批")
    expect(page.locator(".case-missing")).to_contain_text("补偿审批")
    at_stage(page, "处理解决")
    expect(page.get_by_role("button", name="批准")).to_have_count(0)
    screenshot(page, "case-loop-3-awaiting-approval")

    # It appears on the supervisor's list live, and she approves it there.
    card = boss.locator(f"#approval-{ticket.id}-list")
    expect(card).to_contain_text("¥300.00")
    screenshot(boss, "case-loop-4-approved-from-the-board")
    card.locator("textarea[name=comment]").fill("同意，第二次发生，尽快安抚客户")
    card.get_by_role("button", name="批准").click()
    expect(boss.locator(".toast", has_text=f"#{ticket.id} 补偿已批准")).to_be_visible()
    screenshot(boss, "case-loop-4-approved")
    # The list reloads on the case's live event; the case is no longer in it.
    expect(boss.locator(f"#approval-{ticket.id}-list button[value=approve]")).to_have_count(0)
    theirs.close()

    # Her panel hears of it live and she moves on.
    expect(page.locator(".case-record")).to_contain_text("客服主管已批准")
    page.get_by_role("button", name="进入「跟进反馈」", exact=True).click()
    at_stage(page, "跟进反馈")
    # 跟进反馈: the customer confirms and rates; then 总结归档 with the lesson.
    page.get_by_label("客户确认问题已解决").check()
    page.get_by_label("5 星").check()
    page.get_by_role("button", name="记录反馈").click()
    expect(page.locator(".case-record")).to_contain_text("客户已确认")
    page.fill("textarea[name=lesson]", "易碎品一律双层包装，包装规范按品类区分")
    # Someone else changes the case while she types: the panel says so and keeps her words.
    raised = client_for(supervisor).patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "P2"})
    assert raised.status_code == 200, raised.text
    expect(page.locator(".case-stale")).to_be_visible()
    expect(page.locator("textarea[name=lesson]")).to_have_value(
        "易碎品一律双层包装，包装规范按品类区分"
    )
    screenshot(page, "case-loop-5-follow-up")
    page.get_by_role("button", name="归档").click()
    at_stage(page, "总结归档")
    expect(page.locator(".stage-step.done")).to_have_count(5)
    screenshot(page, "case-loop-6-archived")
    hers.close()
