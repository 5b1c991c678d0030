"""ASVS V15.3.6: JSON that carries ``__proto__`` and ``constructor.prototype`` keys never reaches
``Object.prototype`` in the widget or the workspace.

kefu's scripts read the fields they know by name and never merge a parsed object into another
(the two ``Object.assign`` of composer.js copy the server's own norms findings into a fresh
object; the widget's copy literal attributes). The hostile keys come three ways: in what people
type (a visitor's message and an agent's reply, through the real server); in a message the
widget kept in its outbox (localStorage, which any script of the customer's site can write);
and in every frame of both sockets, each real frame from the server followed by a copy carrying
the keys at every level (the server itself refuses such keys: Pydantic forbids unknown fields)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from kefu.demo.webchat import DEMO_CHANNEL_KEY
from tests import factories
from tests.browser.conftest import PageErrors, new_context, sign_in_page
from tests.browser.widget import visitor_writes, wait_for
from tests.checks import api_error

HOSTILE = {
    "__proto__": {"polluted": "by __proto__"},
    "constructor": {"prototype": {"polluted": "by constructor.prototype"}},
}
TYPED = json.dumps(HOSTILE)  # what a visitor and an agent write, as text
OFFLINE_TEXT = "离线时写的一条"
POLLUTED = """() => [({}).polluted, Object.prototype.polluted, [].polluted, Object.polluted,
  (function () {}).polluted, ({}).constructor.prototype.polluted]"""


def _with_hostile_keys(value: Any) -> Any:
    """``value`` with the hostile keys added to every object in it, however deep."""
    if isinstance(value, dict):
        return {**{k: _with_hostile_keys(v) for k, v in value.items()}, **HOSTILE}
    if isinstance(value, list):
        return [_with_hostile_keys(v) for v in value]
    return value


class Doctor:
    """Passes a socket's frames through and follows each JSON frame from the server with a copy
    carrying the hostile keys; ``sent`` counts the copies by frame type."""

    def __init__(self, page: Page, path: re.Pattern[str]) -> None:
        self.sent: dict[str, int] = {}
        page.route_web_socket(path, self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_server(message: str | bytes) -> None:
            page_side.send(message)
            if isinstance(message, str):
                frame = json.loads(message)
                page_side.send(json.dumps(_with_hostile_keys(frame)))
                kind = str(frame.get("type"))
                self.sent[kind] = self.sent.get(kind, 0) + 1

        server_side.on_message(from_server)


def _unpolluted(page: Page) -> None:
    assert page.evaluate(POLLUTED) == [None] * 6


def _hostile_outbox() -> str:
    """A message the widget kept for later, as a raw JSON string (JSON.stringify would drop a
    ``__proto__`` key), written before the widget's script runs."""
    entry = json.dumps({"client_id": str(uuid.uuid4()), "text": OFFLINE_TEXT, **HOSTILE})
    key = f"kefu:{DEMO_CHANNEL_KEY}:outbox"
    return (
        f"if (!sessionStorage.getItem('test-outbox-planted')) {{"
        f" sessionStorage.setItem('test-outbox-planted', '1');"
        f" localStorage.setItem({json.dumps(key)}, {json.dumps('[' + entry + ']')}); }}"
    )


def test_hostile_json_keys_pollute_no_prototype_in_the_widget_or_the_workspace(
    browser: Browser, page_errors: PageErrors, server: str, shop: str, api, admin
) -> None:
    visitor = new_context(browser, page_errors).new_page()
    visitor.add_init_script(_hostile_outbox())
    widget_socket = Doctor(visitor, re.compile(r"/chat/ws/"))
    widget, ticket_id = visitor_writes(visitor, shop, api, TYPED)
    expect(widget.sent()).to_have_count(2)  # the kept message too, sent once connected
    stored = [m["body_text"] for m in api.get(f"/api/v1/tickets/{ticket_id}").json()["messages"]]
    assert stored == [OFFLINE_TEXT, TYPED]

    agent = new_context(browser, page_errors).new_page()
    workspace_socket = Doctor(agent, re.compile(r"/api/v1/events"))
    sign_in_page(agent, server, admin.email, f"/tickets/{ticket_id}", factories.PASSWORD)
    expect(agent.get_by_text(TYPED).first).to_be_visible()

    # The API refuses the keys as fields; as text they are a reply like any other.
    refused = api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": "好的", **HOSTILE})
    api_error(refused, 422, "validation_error")
    replied = api.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"text": TYPED, "norms_override_reason": "测试：原型污染"},
    )
    assert replied.status_code == 201, replied.text
    expect(widget.messages("agent").locator(".kf-text")).to_have_text([TYPED])
    expect(agent.get_by_text(TYPED)).to_have_count(2)
    wait_for(lambda: workspace_socket.sent.get("event"), page=agent)

    doctored = widget_socket.sent
    assert doctored.get("message") and doctored.get("accepted") and doctored.get("ready")
    assert workspace_socket.sent.get("ready")
    _unpolluted(visitor)
    _unpolluted(agent)
    assert widget.texts("visitor") == [OFFLINE_TEXT, TYPED]  # each once: the copies changed nothing
    visitor.context.close()
    agent.context.close()
