"""Acceptance 3 of #24: a trainee plays one training session end to end in a real browser — the
scenario list, the chat marked as training, the simulated customer answering each reply and
calming down, the score card; then the same page on a phone. Screenshots in test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

REPLIES = [
    "您好，非常抱歉让您等了这么久，您着急的心情我完全理解。请您告诉我订单号，我马上帮您查。",
    "谢谢您，给您添麻烦了。包裹在中转站耽误了，我已为您申请加急补发，今天下午5点前发出，明天送到。",
    "好的，补发单号出来我马上发给您。请问还有其他需要帮您的吗？祝您生活愉快！",
]


def test_a_trainee_plays_a_session_to_its_score_card(
    db: Session, server: str, browser: Browser, page_errors: PageErrors
) -> None:
    trainee = factories.make_user(db, name="新人小李")
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, trainee.email, "/training")
    expect(page.get_by_role("link", name="模拟培训")).to_have_attribute("aria-current", "page")
    expect(page.locator(".scenario")).to_have_count(13)
    screenshot(page, "training-scenarios")

    page.locator(".scenario", has_text="网购包裹一周未到").get_by_role("button").click()
    page.wait_for_url(f"{server}/training/*")
    expect(page.locator(".training-banner")).to_contain_text("培训模式")
    expect(page.locator(".turn-customer")).to_have_count(1)
    expect(page.locator(".turn-customer .emotion")).to_have_text("焦虑")

    emotions = []
    for i, reply in enumerate(REPLIES, start=1):
        page.fill("textarea[name=text]", reply)
        page.get_by_role("button", name="发送").click()
        expect(page.locator(".turn-trainee")).to_have_count(i)
        expect(page.locator(".turn-customer")).to_have_count(i + 1)
        emotions.append(page.locator(".turn-customer .emotion").last.inner_text())
        if i == 1:
            screenshot(page, "training-chat")
    assert emotions == ["平静", "满意", "满意"]  # the customer calms down
    card = page.locator(".score-card")
    expect(card).to_contain_text("评分卡")
    expect(card).to_contain_text("客户问题已解决")
    expect(card.locator(".score-total strong")).to_have_text("100")
    expect(card.locator(".goal-list .pass")).to_have_count(4)
    expect(page.locator("textarea[name=text]")).to_have_count(0)  # the session is over
    page.locator(".score-card").scroll_into_view_if_needed()
    screenshot(page, "training-score-card")
    url = page.url.split("#")[0]
    context.close()

    phone = new_context(browser, page_errors, phone=True)
    small = phone.new_page()
    sign_in_page(small, server, trainee.email, "/training")
    small.goto(url)
    expect(small.locator(".score-card")).to_be_visible()
    overflow = small.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    screenshot(small, "training-phone")
    phone.close()
