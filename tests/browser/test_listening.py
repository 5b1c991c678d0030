"""The listening page in a browser: the chart is drawn (Chart.js served by kefu, no inline
script), the topic bars get their widths, and 转为工单 opens the case."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from tests import factories
from tests.browser.conftest import screenshot, sign_in_page
from tests.services.social.helpers import NEGATIVE_LOGISTICS, post, send


def test_a_supervisor_reads_the_chart_and_makes_a_case_of_a_mention(
    desktop: Page, server: str, db: Session, held_outbox: None
) -> None:
    supervisor = factories.make_user(db, role="supervisor")
    now = utcnow()
    for k in range(6):
        at = now - timedelta(minutes=50 - 8 * k)
        send(db, post(NEGATIVE_LOGISTICS[k % 3], at=at, handle=f"buyer{k}"), at=at)
    sign_in_page(desktop, server, supervisor.email, "/listening")
    drawn = desktop.evaluate(
        "() => { const c = document.getElementById('mentions-chart');"
        " const chart = window.Chart && window.Chart.getChart(c);"
        " return chart ? chart.data.datasets[0].data.reduce((a, b) => a + b, 0) : -1; }"
    )
    assert drawn == 6
    bar = desktop.locator(".topic-list .bar > span").first
    assert bar.evaluate("(el) => el.style.width") == "100%"
    expect(desktop.locator(".alert-item.open")).to_have_count(1)  # the logistics burst
    screenshot(desktop, "listening")
    desktop.locator(".mention").first.get_by_role("button", name="转为工单").click()
    desktop.wait_for_url(f"{server}/tickets/*")
    expect(desktop.locator("body")).to_contain_text("社交媒体")
