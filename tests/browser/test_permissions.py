"""Acceptance 2 in the browser: an agent who types the address of a page she may not use gets
a page that says so (403 for admin pages and the board, 404 for another group's ticket and
customer), not an error or a blank screen."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page


def test_an_agent_is_stopped_with_a_page_at_every_door_she_may_not_open(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    agent = factories.make_user(db, groups=[mine])
    hidden = factories.make_ticket(db, group=theirs, subject="别组的工单")
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, "/inbox")
    for path, status in (
        ("/admin", 403),
        ("/admin/users", 403),
        ("/admin/routing", 403),
        ("/board", 403),
        ("/listening", 403),
        ("/dashboard", 403),
        ("/dashboard/tickets", 403),
        (f"/tickets/{hidden.id}", 404),
        (f"/customers/{hidden.customer_id}", 404),
    ):
        answer = page.goto(f"{server}{path}")
        assert answer is not None and answer.status == status, path
        expect(page.locator(".error-status")).to_have_text(str(status))
        expect(page.get_by_role("link", name="回到收件箱")).to_be_visible()
        assert "别组的工单" not in page.content()
    screenshot(page, "permissions-404")
    # Nothing of the admin menu or the board is offered to her.
    page.goto(f"{server}/inbox")
    expect(page.locator(".sidenav a[href='/admin']")).to_have_count(0)
    expect(page.locator(".sidenav a[href='/board']")).to_have_count(0)
    expect(page.locator(".sidenav a[href='/listening']")).to_have_count(0)
    expect(page.locator(".sidenav a[href='/dashboard']")).to_have_count(0)
    context.close()
