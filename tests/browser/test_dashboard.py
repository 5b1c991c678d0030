"""Acceptance 3 of #23: on the demo data a supervisor opens the dashboard, changes the filters,
drills from a figure into its tickets and on to a ticket; every chart is drawn (a Chart.js chart
with data on each canvas) and the breach heat map is there. Screenshots at 1280×720 and on a
phone (390×844) are kept in the test's folder and in test-artifacts/."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import SlaEvent, Ticket
from kefu.demo.loader import load_demo
from kefu.demo.team import DEMO_PASSWORD
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page
from tests.factories import _writes

SUPERVISOR = "chen.jing@demo.kefu"
CHARTS = ("trend-chart", "pareto-chart", "emotion-chart", "sentiment-chart")
DRAWN = """(ids) => ids.map((id) => {
  const canvas = document.getElementById(id);
  const chart = canvas && window.Chart && window.Chart.getChart(canvas);
  if (!chart) return [id, 0, 0];
  const points = chart.data.datasets.flatMap((d) => d.data).filter((v) => v !== null && v > 0);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
  return [id, points.length, inked];
})"""


SLA_MINUTES = 10


@_writes
def _demo(db: Session) -> None:
    """The demo, and the breaches an SLA sweep would have recorded on it: the demo plays its
    cases through the services but runs no sweep, so each first response later than
    ``SLA_MINUTES`` gets a breach fired at its due time (as the sweep fires it)."""
    assert load_demo(db)
    rows = db.execute(select(Ticket.id, Ticket.created_at, Ticket.first_response_at)).all()
    late = [
        (ticket_id, created + timedelta(minutes=SLA_MINUTES))
        for ticket_id, created, answered in rows
        if answered is not None and answered - created > timedelta(minutes=SLA_MINUTES)
    ]
    for ticket_id, due_at in late:
        db.add(
            SlaEvent(
                ticket_id=ticket_id, key=f"first_response:breach:{due_at.isoformat()}",
                target="first_response", kind="breach", due_at=due_at, fired_at=due_at,
            )
        )  # fmt: skip
    db.commit()
    assert late, "the demo has no late first response"


def _check_charts(page: Page) -> None:
    for chart_id, points, inked in page.evaluate(DRAWN, list(CHARTS)):
        assert points > 0 and inked > 500, (chart_id, points, inked)
    expect(page.locator("table.heatmap tbody tr")).to_have_count(7)
    expect(page.locator(".kpi-card")).to_have_count(17)


def _keep(page: Page, tmp_path: Path, name: str, *sections: str) -> None:
    """The whole page's content (the fixed bars left out), what the screen shows, and the named
    sections one by one, into the test's folder (the screen also into test-artifacts/)."""
    page.locator("main").screenshot(path=str(tmp_path / f"{name}.png"), animations="disabled")
    shutil.copy(screenshot(page, name), tmp_path / f"{name}-viewport.png")
    for section in sections:
        shot = tmp_path / f"{name}-{section}.png"
        page.locator(f"#{section}").screenshot(path=str(shot), animations="disabled")


def test_a_supervisor_reads_the_dashboard_and_drills_into_a_figure(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, tmp_path: Path
) -> None:
    _demo(db)
    context = new_context(browser, page_errors)
    page = context.new_page()
    sign_in_page(page, server, SUPERVISOR, "/dashboard", DEMO_PASSWORD)
    _check_charts(page)
    assert page.locator("table.heatmap td a").count() > 0  # the demo's breaches

    # The filters: a preset, then the weekly trend for the web-chat channel.
    page.get_by_role("link", name="近7天").click()
    page.wait_for_url("**range=7d**")
    page.locator("select[name=grain]").select_option("week")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url("**grain=week**")
    assert "-W" in page.evaluate(
        "() => window.Chart.getChart(document.getElementById('trend-chart')).data.labels[0]"
    )
    page.get_by_role("link", name="近30天").click()
    page.wait_for_url("**range=30d**")
    _check_charts(page)
    # Sorting the scorecards by the composite, lowest first.
    page.locator("#scorecard-table thead th button").last.click()
    expect(page.locator("#scorecard-table thead th").last).to_have_attribute(
        "aria-sort", "ascending"
    )
    _keep(page, tmp_path, "dashboard-1280x720")

    # From the resolution-rate card to its tickets, and on to one of them.
    page.locator(".kpi-card[data-metric=resolution_rate] .kpi-main").click()
    page.wait_for_url("**/dashboard/tickets?**metric=resolution_rate**")
    rows = page.locator(".drill-table tbody tr")
    assert rows.count() > 0
    _keep(page, tmp_path, "dashboard-drill-1280x720")
    page.go_back()
    # A heat-map cell leads to the tickets whose SLA was breached then.
    page.locator("table.heatmap td a").first.click()
    page.wait_for_url("**/dashboard/tickets?**weekday=**")
    assert page.locator(".drill-table tbody tr").count() > 0
    page.locator(".drill-table tbody tr a").first.click()
    page.wait_for_url(f"{server}/tickets/*")
    context.close()

    phone = new_context(browser, page_errors, phone=True)
    small = phone.new_page()
    sign_in_page(small, server, SUPERVISOR, "/dashboard", DEMO_PASSWORD)
    _check_charts(small)
    overflow = small.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    _keep(
        small,
        tmp_path,
        "dashboard-390x844",
        "trend",
        "complaints",
        "emotions",
        "breaches",
        "scorecards",
    )
    phone.close()
