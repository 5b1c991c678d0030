"""The account page's list of signed-in browsers and an admin's 结束全部登录, in a real browser
(screenshotted at 1280×720 and 390×844, test-artifacts/), and what signing out leaves in the
browser: Clear-Site-Data empties its storage (ASVS V14.3.1)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page
from tests.browser.test_two_factor import _no_sideways_scroll
from tests.web.conftest import sign_in_with


def test_signing_out_empties_what_the_browser_kept_for_kefu(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    agent = factories.make_user(db)
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, agent.email, "/inbox")
    page.evaluate(
        "() => { localStorage.setItem('probe', '1'); sessionStorage.setItem('probe', '1'); }"
    )
    assert page.evaluate("() => localStorage.getItem('probe')") == "1"
    page.locator(".user-menu summary").click()  # the top bar's menu holds the sign-out
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/login(\?|$)"))
    expect(page.locator("input[name=email]")).to_be_visible()
    kept = page.evaluate("() => [localStorage.length, document.cookie]")
    assert kept[0] == 0 and "kefu_csrf" not in kept[1]
    assert not [c for c in context.cookies() if c["name"].startswith("kefu_session")]
    context.close()


def test_the_sessions_list_and_an_admin_ending_them(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    agent = factories.make_user(db, name="陈静")
    admin = factories.make_user(db, role="admin")
    with httpx.Client(base_url=server, timeout=30, follow_redirects=False,
                      headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
                               "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"}) as phone_app:  # fmt: skip
        assert sign_in_with(phone_app, agent.email).status_code == 303
        for phone in (False, True):
            size = "phone" if phone else "desktop"
            context = new_context(browser, page_errors, phone=phone)
            page = context.new_page()
            sign_in_page(page, server, agent.email, "/account")
            rows = page.locator("#sessions li.session")
            expect(rows.filter(has_text="Safari 17 · iOS")).to_have_count(1)
            expect(rows.filter(has_text="（当前设备）")).to_have_count(1)
            page.locator("#sessions").scroll_into_view_if_needed()
            screenshot(page, f"account-sessions-{size}")
            _no_sideways_scroll(page)
            context.close()
        context = new_context(browser, page_errors)
        page = context.new_page()
        sign_in_page(page, server, admin.email, f"/admin/users/{agent.id}")
        page.get_by_role("button", name="结束全部登录").click()
        expect(page.get_by_text("该用户在所有设备上的登录都已结束。")).to_be_visible()
        screenshot(page, "admin-user-sessions-ended")
        assert phone_app.get("/account").status_code == 303  # signed out there too
        context.close()


def test_a_password_an_admin_set_is_changed_first(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, client_for
) -> None:
    """ASVS V6.4.1: signed in with it, the person lands on the change form, and nothing else
    opens until they chose their own password."""
    agent = factories.make_user(db, name="王芳")
    admin = client_for(factories.make_user(db, role="admin"))
    assert (
        admin.patch(f"/api/v1/users/{agent.id}", json={"password": "given-by-admin-1"}).status_code
        == 200
    )
    for phone in (False, True):
        size = "phone" if phone else "desktop"
        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        page.goto(f"{server}/login?next=/inbox")
        page.fill("input[name=email]", agent.email)
        page.fill("input[name=password]", "given-by-admin-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/account#password")
        expect(page.get_by_text("你的密码是别人为你设置的初始密码")).to_be_visible()
        screenshot(page, f"account-change-first-{size}")
        _no_sideways_scroll(page)
        page.goto(f"{server}/inbox")
        page.wait_for_url(f"{server}/account#password")  # nothing else opens
        context.close()
    page = new_context(browser, page_errors).new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", "given-by-admin-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/account#password")
    page.fill("input[name=current_password]", "given-by-admin-1")
    page.fill("input[name=new_password]", "my-very-own-pass-7")
    page.fill("input[name=repeat_password]", "my-very-own-pass-7")
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_text("密码已修改，其他登录已退出。")).to_be_visible()
    page.goto(f"{server}/inbox")
    page.wait_for_url(f"{server}/inbox")
    page.context.close()
