"""Two-step verification and the password reset in a real browser: enrol on the account page
(scan — here: read — the secret, confirm with a code pyotp makes), then sign in with the
password and a code; and the "forgot password" pages. Each step screenshotted at 1280×720 and
390×844 (test-artifacts/)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_an_agent_enrols_and_signs_in_with_a_code(
    browser: Browser, page_errors: PageErrors, server: str, db: Session
) -> None:
    for phone in (False, True):
        size = "phone" if phone else "desktop"
        agent = factories.make_user(db, name="陈静")
        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        sign_in_page(page, server, agent.email, "/account")
        page.locator("#two-factor input[name=password]").fill(factories.PASSWORD)
        page.get_by_role("button", name="开启两步验证").click()
        expect(page.locator("img.totp-qr")).to_be_visible()
        page.locator("#two-factor summary").click()
        secret = page.locator(".totp-secret").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        screenshot(page, f"totp-enrol-{size}")
        _no_sideways_scroll(page)
        page.fill("#totp-code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="确认开启").click()
        expect(page.locator(".recovery-codes li")).to_have_count(10)
        screenshot(page, f"totp-recovery-codes-{size}")
        _no_sideways_scroll(page)
        context.close()

        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        page.goto(f"{server}/login?next=/account")
        page.fill("input[name=email]", agent.email)
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", name="两步验证")).to_be_visible()
        screenshot(page, f"sign-in-code-{size}")
        _no_sideways_scroll(page)
        # The next step's code: the confirmation's own code is not accepted twice.
        page.fill("input[name=code]", pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30)))
        page.get_by_role("button", name="验证并登录").click()
        page.wait_for_url(f"{server}/account")
        expect(page.locator("#two-factor")).to_contain_text("剩余恢复码")
        screenshot(page, f"totp-on-{size}")
        _no_sideways_scroll(page)
        context.close()


def test_the_forgot_password_pages(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, held_outbox: None
) -> None:
    agent = factories.make_user(db, email="forgetful@example.cn")
    for phone in (False, True):
        size = "phone" if phone else "desktop"
        context = new_context(browser, page_errors, phone=phone)
        page = context.new_page()
        page.goto(f"{server}/login")
        page.get_by_role("link", name="忘记密码？").click()
        expect(page.get_by_role("heading", name="重置密码")).to_be_visible()
        screenshot(page, f"password-reset-request-{size}")
        _no_sideways_scroll(page)
        page.fill("input[name=email]", agent.email)
        page.get_by_role("button", name="发送重置链接").click()
        expect(page.locator(".alert-ok")).to_contain_text("重置链接已经发出")
        screenshot(page, f"password-reset-sent-{size}")
        link = _reset_link(db, count=1 if not phone else 2)
        page.goto(f"{server}{link}")
        expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
        screenshot(page, f"password-reset-new-{size}")
        _no_sideways_scroll(page)
        new_password = f"harbour-lantern-{size}"
        page.fill("input[name=new_password]", new_password)
        page.fill("input[name=repeat_password]", new_password)
        page.get_by_role("button", name="保存新密码").click()
        expect(page.locator(".alert-ok")).to_contain_text("密码已重置")
        sign_in_page(page, server, agent.email, "/inbox", password=new_password)
        context.close()


def _reset_link(db: Session, *, count: int) -> str:
    """The path of the newest reset link, once ``count`` mails are queued."""
    deadline = time.monotonic() + 10
    while True:
        db.rollback()
        mails = list(db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice")
                                .order_by(OutboxEntry.id)))  # fmt: skip
        if len(mails) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    found = re.search(r"http://127\.0\.0\.1:8000(/password-reset/\S+)", mails[-1].target["text"])
    assert found is not None
    return found.group(1)
