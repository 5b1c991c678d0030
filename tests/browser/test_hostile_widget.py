"""Sink: the web chat widget's DOM. Every hostile fixture of tests/hostile.py reaches a visitor
as an agent's reply (from an agent whose name is one too), and the bot answers from an article
whose title and body are made of them: nothing runs (``window.__xss`` is never set, no dialog
opens), no element of a fixture is made, and every link the widget shows is http(s).

tests/browser/test_widget.py checks a few payloads the visitor and an agent type; this runs the
whole set, bot answers included. The widget's JSON: tests/security/test_events.py."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, expect
from sqlalchemy import select

from kefu.db.models import WebchatChannel
from kefu.demo.webchat import DEMO_CHANNEL_KEY
from kefu.services.actors import SYSTEM
from kefu.services.webchat import channels
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot
from tests.browser.widget import ChatWidget, wait_for
from tests.hostile import fitting, joined

REPLIES = [f for f in fitting(50_000) if f.text.strip()]
QUESTION = "退款多久到账"
MARKUP = "img, script, svg:not(.kf-icon), iframe, object, embed, b, form, input:not([type]), [onerror], [onload]"


def _bot_first_with_a_hostile_article(db, api) -> None:
    """The demo shop's channel with the bot first; the demo's article that answers the question
    edited (through the API) to carry every fixture in its title and body."""
    group = factories.make_group(db, "售前咨询组", calendar={"always_open": True})
    channel = db.scalar(select(WebchatChannel).where(WebchatChannel.key == DEMO_CHANNEL_KEY))
    channels.do_update_channel(db, SYSTEM, channel, {"bot_mode": "first", "group_id": group.id})
    db.commit()
    factories.make_demo_kb(db)
    found = api.get("/api/v1/kb/search", params={"q": QUESTION})
    assert found.status_code == 200 and found.json()["answered"], found.text
    hit = found.json()["hits"][0]
    article = api.get(f"/api/v1/kb/articles/{hit['key']}").json()
    hostile = joined(fitting(60), sep=" ")
    edited = api.patch(f"/api/v1/kb/articles/{hit['key']}", json={
        "title": f"{article['title']} {hostile}"[:200],
        "body": article["body"] + "\n\n" + "\n\n".join(f.text for f in fitting(2000)),
    })  # fmt: skip
    assert edited.status_code == 200, edited.text


def test_no_fixture_runs_in_the_widget_as_reply_or_bot_answer(
    browser: Browser, page_errors: PageErrors, shop: str, api, db, client_for
) -> None:
    _bot_first_with_a_hostile_article(db, api)
    agent = factories.make_user(db, role="admin", name='<img src=x onerror="window.__xss=1">')
    context = new_context(browser, page_errors)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(shop)
    widget = ChatWidget(page)
    widget.open()
    widget.send(QUESTION)
    answer = widget.messages("bot").first
    expect(answer).to_contain_text("window.__xss=1")  # the hostile article's answer, as text
    link = re.compile(r"^http://127\.0\.0\.1:\d+/help/a/kb-")
    expect(answer.locator("a.kf-article")).to_have_attribute("href", link)
    screenshot(page, "hostile-widget-bot")
    ticket_id = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )[0]["id"]
    writer = client_for(agent)
    for fixture in REPLIES:
        sent = writer.post(f"/api/v1/tickets/{ticket_id}/messages",
                           json={"text": fixture.text, "norms_override_reason": "安全测试"})  # fmt: skip
        assert sent.status_code == 201, (fixture.name, sent.text)
    expect(widget.messages("agent")).to_have_count(len(REPLIES), timeout=60_000)
    page.wait_for_timeout(300)

    shown = widget.messages("agent").locator(".kf-text").all_text_contents()
    for fixture, text in zip(REPLIES, shown, strict=True):
        assert " ".join(text.split()) == " ".join(fixture.text.split()), fixture.name
    messages = page.locator(".kf-msg")
    found = messages.locator(MARKUP).evaluate_all("els => els.map(e => e.outerHTML)")
    assert found == [], found
    protocols = messages.locator("a").evaluate_all("links => links.map(a => a.protocol)")
    assert set(protocols) <= {"http:", "https:"}, protocols
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    screenshot(page, "hostile-widget")
    context.close()
