"""The case library in a browser: an agent on a late-parcel complaint opens the 相似案例 tab beside
the composer, sees the past case that worked (its solution, compensation and outcome) above the
one that had to be reopened, with the tab's count; follows it to the entry page; the library page
filters by category. On a phone the panel sits under the composer. Screenshots in test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kefu.db.models import CaseEntry, Ticket
from kefu.domain import case_loop as cw
from kefu.services.actors import SYSTEM
from kefu.services.cases import loop
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

LATE = {"category": "logistics", "cause": "中转站积压", "lesson": "大促前加派运力"}


def _library(db, group):
    worked = factories.make_archived_complaint(
        db, text="快递五天还没到", facts="快递五天未到，物流一直不更新",
        solution="联系快递加急派送并每日同步物流进度", compensation=("coupon", 20_00),
        group=group, **LATE)  # fmt: skip
    reopened = factories.make_archived_complaint(
        db, text="快递一直没到", facts="快递延误五天，物流停在中转站不更新", solution="催快递",
        group=group, **LATE)  # fmt: skip
    ticket = db.get(Ticket, reopened.id)
    for step in (cw.Reopen(), cw.ProposeSolution("再次催件"), cw.Advance(),
                 cw.RecordFeedback(True, 3), cw.Archive("催件要有结果")):  # fmt: skip
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    return [
        db.scalar(select(CaseEntry).where(CaseEntry.ticket_id == t.id)) for t in (worked, reopened)
    ]


def test_an_agent_sees_the_similar_case_that_worked_and_opens_it(
    db, server, browser: Browser, page_errors: PageErrors
):
    group = factories.make_group(db, "售后组", calendar={"always_open": True})
    worked, reopened = _library(db, group)
    agent = factories.make_user(db, groups=[group], email="case.agent@example.cn")
    ticket = factories.make_ticket(db, text="我的快递已经五天了还没到，物流一直不更新",
                                   intent="complaint", category="logistics", group=group)  # fmt: skip
    for phone in (False, True):
        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        sign_in_page(page, server, agent.email, f"/tickets/{ticket.id}")
        tab = page.get_by_role("tab", name="相似案例")
        expect(tab.locator("#similar-count")).to_have_text("2")
        expect(page.locator("#similar-cases")).to_be_hidden()
        tab.click()
        panel = page.locator("#similar-cases")
        expect(panel).to_be_visible()
        expect(page.locator("#suggestions")).to_be_hidden()
        cases = panel.locator(".similar-case")
        expect(cases).to_have_count(2)
        expect(cases.nth(0)).to_contain_text("联系快递加急派送并每日同步物流进度")
        expect(cases.nth(0)).to_contain_text("优惠券 ¥20.00")
        expect(cases.nth(0)).to_contain_text("一次解决")
        expect(cases.nth(1)).to_contain_text("曾重开 ×1")
        screenshot(page, f"case-library-panel-{'phone' if phone else 'desktop'}")
        if not phone:
            page.get_by_role("tab", name="推荐话术").click()
            expect(page.locator("#suggestions")).to_be_visible()
            expect(panel).to_be_hidden()
            tab.click()
            cases.nth(0).locator(".case-item-title").click()
            page.wait_for_url(f"{server}/cases/library/{worked.id}")
            expect(page.locator("h1")).to_have_text("快递五天未到")
            expect(page.get_by_role("link", name=f"#{worked.ticket_id}")).to_be_visible()
            page.goto(f"{server}/cases/library")
            page.select_option("#library-category", "logistics")
            page.get_by_role("button", name="查找").click()
            expect(page.locator(".library-item")).to_have_count(2)
            screenshot(page, "case-library-page")
        context.close()
    assert reopened.id != worked.id
