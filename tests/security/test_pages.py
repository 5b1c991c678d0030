"""Sink: the workspace's pages and the public help center, parsed (html.parser). Every hostile
fixture, come in through a real entry point, is text on each page that shows it: no element or
attribute of a fixture exists — no script of it, no on* attribute (kefu's pages have none: the
CSP forbids them), no href or src starting javascript: or data:.

tests/browser/test_stored_xss.py runs some of these pages in Chromium; here every page that shows
user text is parsed, with the whole fixture set at once where the page can show it all."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import QaReview, Survey
from kefu.settings import Settings
from tests import factories
from tests.hostile import assert_inert_html, fitting, folded, joined, visible_text
from tests.security.cases import open_cases
from tests.services.qa.cases import resolve, say, sweep
from tests.services.social.helpers import post, send
from tests.web.conftest import SignIn
from tests.web.test_survey_pages import _mailed_link

# Social alerts and survey mails are queued, never sent, while these tests run.
pytestmark = pytest.mark.usefixtures("held_outbox")

ALL = joined(fitting(1000))


def _page(client: httpx.Client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src" in answer.headers["content-security-policy"]
    assert_inert_html(answer.text, path)
    return answer.text


def _shows(html: str, text: str) -> bool:
    return folded(text) in " ".join(visible_text(html).split())


def test_case_pages_show_every_fixture_as_text(
    db: Session, integration: httpx.Client, api: httpx.Client, sign_in: SignIn
) -> None:
    cases = open_cases(db, integration, api)
    admin = factories.make_user(db, role="admin")
    browser = sign_in(admin).client
    some = cases["script"]
    lists = ["/inbox", "/inbox?view=all", "/customers", "/search?q=退款", "/board",
             "/dashboard/tickets", f"/dashboard/tickets?agent={some.agent_id}", "/admin/users",
             "/admin/groups", "/notifications", "/qa"]  # fmt: skip
    for path in lists:
        _page(browser, path)
    for name, case in cases.items():
        ticket = _page(browser, f"/tickets/{case.ticket_id}")
        if len(case.fixture.text) < 200:
            assert _shows(ticket, case.fixture.text), name  # the message, as typed
        _page(browser, f"/customers/{case.customer_id}")
    # The same messages on the customer's timeline, a name in the form of the staff page.
    for name in ("script", "svg_onload", "md_javascript_link", "crlf_bcc", "chinese_emoji"):
        _page(browser, f"/customers/{cases[name].customer_id}/timeline")
        _page(browser, f"/admin/users/{cases[name].agent_id}")


def test_knowledge_scripts_and_the_help_center_show_markdown_inert(
    db: Session, api: httpx.Client, sign_in: SignIn, anon: httpx.Client
) -> None:
    title = joined(fitting(180), sep=" ")[:200]
    body = "\n\n".join(f"- {f.text}" for f in fitting(1000)) + f"\n\n{ALL}\n\n退款政策"
    article = api.post("/api/v1/kb/articles", json={"title": title.strip() or "标题", "body": body,
                                                    "status": "published", "tags": ["退款"]})  # fmt: skip
    assert article.status_code == 201, article.text
    key = article.json()["key"]
    scenario = api.post("/api/v1/scripts/scenarios", json={"name": "安全测试", "type": "complaint"})
    assert scenario.status_code == 201, scenario.text
    script = api.post("/api/v1/scripts", json={"scenario_id": scenario.json()["id"],
                                               "title": "退款话术", "body": ALL[:5000]})  # fmt: skip
    assert script.status_code == 201, script.text
    browser = sign_in(factories.make_user(db, role="admin")).client
    for path in ("/kb", f"/kb/a/{key}", "/scripts", f"/scripts/{script.json()['id']}"):
        _page(browser, path)
    for path in ("/help", "/help/search?q=退款政策"):
        _page(anon, path)
    shown = _page(anon, f"/help/a/{key}")  # the Markdown rendered: its HTML and links as text
    assert _shows(shown, "<script>window.__xss=1</script>")
    assert _shows(shown, "[点我领券](javascript:window.__xss=1)")


def test_review_listening_and_survey_pages_show_hostile_text_inert(
    db: Session, engine: Engine, settings: Settings, server: str, anon: httpx.Client,
    sign_in: SignIn,
) -> None:  # fmt: skip
    # A resolved case whose every turn is hostile, reviewed by the quality job.
    agent = factories.make_user(db, name=fitting(100)[0].text)
    ticket = factories.make_ticket(db, text=ALL[:2000])
    ticket.assignee_id = agent.id
    for minute, fixture in enumerate(fitting(1000)):
        say(db, ticket, "customer" if minute % 2 else "agent", fixture.text, minute)
    db.commit()
    resolve(db, ticket)
    sweep(db, engine)
    review = db.scalar(select(QaReview).where(QaReview.ticket_id == ticket.id))
    assert review is not None
    # Posts of every fixture, by authors named after them.
    now = utcnow()
    for n, fixture in enumerate(fitting(1000)):
        at = now - timedelta(minutes=n)
        send(db, post(f"{fixture.text} 太差了", at=at, handle=fixture.text[:60]), at=at)
    # A survey answered by its link, the comment made of the fixtures.
    link = _mailed_link(db, settings, server)
    answered = anon.post(link, data={"csat": "5", "comment": joined(fitting(100))[:1000]})
    assert answered.status_code == 200, answered.text[:300]
    db.rollback()
    survey = db.scalar(select(Survey))
    assert survey is not None and survey.comment

    browser = sign_in(factories.make_user(db, role="admin")).client
    for path in ("/qa", f"/qa/reviews/{review.id}", "/listening", f"/tickets/{ticket.id}",
                 f"/tickets/{survey.ticket_id}", "/notifications", "/dashboard"):  # fmt: skip
        _page(browser, path)
