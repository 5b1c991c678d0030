"""ASVS V14.3.3: after a real chat in the widget and a session in the workspace, the browser keeps
only what kefu means it to keep: the widget its signed visitor token (and an emptied outbox), an
"open" switch for the tab; the workspace the last event id, the alert switch and (htmx) the
page's own address. No message
text, name or phone number is in localStorage, sessionStorage or IndexedDB."""

from __future__ import annotations

import base64
import binascii

from playwright.sync_api import Browser, Page, expect

from kefu.demo.webchat import DEMO_CHANNEL_KEY
from tests import factories
from tests.browser.conftest import PageErrors, new_context, sign_in_page
from tests.browser.widget import visitor_writes, wait_for

NAME, PHONE = "张伟", "13812345678"
WRITTEN = f"我是{NAME}，电话{PHONE}，订单SO2026120700001还没到"
REPLY = f"{NAME}您好，已为您催促快递，稍后回电{PHONE}"
WIDGET = f"kefu:{DEMO_CHANNEL_KEY}:"

STORAGE = """async () => {
  const all = (store) => Object.fromEntries(Array.from({length: store.length}, (_, i) => store.key(i)).map((k) => [k, store.getItem(k)]));
  const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
  return {local: all(localStorage), session: all(sessionStorage), indexeddb: databases};
}"""


def _storage(page: Page) -> dict:
    return page.evaluate(STORAGE)


def _decoded(value: str) -> str:
    """The value and whatever base64 pieces of it decode to (a token's payload)."""
    pieces = [value]
    for part in value.replace("-", "+").replace("_", "/").split("."):
        try:
            pieces.append(base64.b64decode(part + "=" * (-len(part) % 4)).decode(errors="replace"))
        except (binascii.Error, ValueError):
            pass
    return "\n".join(pieces)


def _holds_nothing_personal(kept: dict) -> None:
    values = [*kept["local"].values(), *kept["session"].values()]
    for value in values:
        readable = _decoded(value)
        for secret in (NAME, PHONE, "订单SO2026", "催促快递"):
            assert secret not in readable, (secret, value)


def _enable_alerts(page: Page) -> None:
    """The workspace's 开启声音和桌面通知 (in the user menu): the one switch it keeps."""
    page.locator(".user-menu summary").click()
    page.locator("[data-action=enable-alerts]").click()
    wait_for(lambda: page.evaluate("localStorage.getItem('kefu-alerts')") == "on", page=page)


def test_the_widget_and_the_workspace_keep_only_a_token_an_event_id_and_switches(
    browser: Browser, page_errors: PageErrors, server: str, shop: str, api, admin
) -> None:
    visitor = new_context(browser, page_errors).new_page()
    widget, ticket_id = visitor_writes(visitor, shop, api, WRITTEN)
    expect(widget.sent()).to_have_count(1)

    agent = new_context(browser, page_errors).new_page()
    sign_in_page(agent, server, admin.email, f"/tickets/{ticket_id}", factories.PASSWORD)
    expect(agent.get_by_text(WRITTEN).first).to_be_visible()
    _enable_alerts(agent)
    sent = api.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"text": REPLY, "norms_override_reason": "测试：回复里有客户的姓名和电话"},
    )
    assert sent.status_code == 201, sent.text
    expect(widget.messages("agent").locator(".kf-text")).to_have_text([REPLY])
    wait_for(lambda: agent.evaluate("sessionStorage.getItem('kefu-last-event')"), page=agent)

    kept = _storage(visitor)
    assert set(kept["local"]) <= {WIDGET + "token", WIDGET + "outbox"}, kept
    assert kept["local"][WIDGET + "token"]
    assert kept["local"].get(WIDGET + "outbox", "[]") == "[]"  # emptied once accepted
    assert set(kept["session"]) <= {WIDGET + "open"}, kept
    assert kept["indexeddb"] == []
    _holds_nothing_personal(kept)

    kept = _storage(agent)
    assert set(kept["local"]) <= {"kefu-alerts"}, kept
    # htmx keeps the page's own address for its history (its page cache is off: base.html's
    # historyCacheSize 0, so no page's HTML is ever stored).
    assert set(kept["session"]) == {"kefu-last-event", "htmx-current-path-for-history"}, kept
    assert kept["session"]["htmx-current-path-for-history"] == f"/tickets/{ticket_id}"
    assert not any(key.startswith("htmx-history-cache") for key in kept["local"])
    assert kept["indexeddb"] == []
    _holds_nothing_personal(kept)
    visitor.context.close()
    agent.context.close()
