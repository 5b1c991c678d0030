"""Masking by role in a real browser: an agent reads the customer's phone, ID-card and bank-card
numbers masked on the profile and in the ticket's conversation and shows them with one click
(audited); a supervisor reads them in full. Screenshots at 1280x720 and 390x844 are kept in
test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

PHONE = "13812345678"
ID_CARD = "110101199003071234"
CARD = "6222020012345678"


def test_agents_read_numbers_masked_and_supervisors_in_full(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    group = factories.make_group(db, "售后组")
    customer = factories.make_customer(
        db, name="刘经理", phone=PHONE, email="liu@corp.example",
        note=f"实名认证：身份证 {ID_CARD}；退款卡 {CARD}", identities=[("phone", PHONE)],
    )  # fmt: skip
    ticket = factories.make_ticket(
        db, customer=customer, group=group, subject="退款还没到账",
        text=f"我的电话{PHONE}，身份证{ID_CARD}，退款请打到卡{CARD}，谢谢",
    )  # fmt: skip
    agent = factories.make_user(db, groups=[group], name="李娜")
    supervisor = factories.make_user(db, role="supervisor", groups=[group], name="陈静")

    for who, user, full in (("agent", agent, False), ("supervisor", supervisor, True)):
        for size, phone in (("1280x720", False), ("390x844", True)):
            context = new_context(browser, page_errors, phone=phone)
            page = context.new_page()
            sign_in_page(page, server, user.email, f"/customers/{customer.id}")
            side = page.locator(".customer-side")
            if full:
                expect(side.locator('input[name="phone"]')).to_have_value(PHONE)
                expect(side.locator('textarea[name="note"]')).to_contain_text(ID_CARD)
            else:
                expect(side).to_contain_text("138****5678")
                expect(side).to_contain_text("110101********1234")
                expect(side).to_contain_text("****5678")
                expect(side).not_to_contain_text(PHONE)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= page.viewport_size["width"], (who, size, width)  # type: ignore[index]
            screenshot(page, f"masking-profile-{who}-{size}")

            page.goto(f"{server}/tickets/{ticket.id}")
            body = page.locator("#timeline .msg-body").first
            if full:
                expect(body).to_contain_text(PHONE)
            else:
                expect(body).to_contain_text("138****5678，身份证110101********1234")
                expect(body).not_to_contain_text(PHONE)
            screenshot(page, f"masking-ticket-{who}-{size}")
            context.close()

    # The agent shows a message's numbers for the case, and the profile's: one click each.
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, f"/tickets/{ticket.id}")
    button = page.locator("#timeline").get_by_role("button", name="显示完整号码")
    with page.expect_response(lambda r: r.url.endswith("/timeline/full")) as answer:
        button.click()
    assert answer.value.status == 200, answer.value.text()
    expect(button).to_have_count(0)
    expect(page.locator("#timeline .msg-body").first).to_contain_text(PHONE)
    screenshot(page, "masking-ticket-agent-shown-1280x720")
    context.close()
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, f"/customers/{customer.id}")
    page.get_by_role("button", name="显示完整号码").click()
    expect(page.locator('input[name="phone"]')).to_have_value(PHONE)
    screenshot(page, "masking-profile-agent-shown-1280x720")
    context.close()
    db.rollback()
    whats = db.scalars(
        select(AuditEvent.after).where(
            AuditEvent.action == "customer.access", AuditEvent.actor_id == agent.id
        )
    ).all()
    assert {"what": "page:profile:full"} in whats
    assert {"what": f"page:ticket:{ticket.id}:full"} in whats
