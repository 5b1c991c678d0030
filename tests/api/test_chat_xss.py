"""Acceptance 6 of #18: markup in chat text, file names and visitor names stays text — in every
answer of the visitor's API and of the staff API, and in every event.

"Inert" here means: JSON answers say they are JSON and are never sniffed into HTML; the text
comes back exactly as typed (the widget shows it with textContent, so it must not be mangled
either); every HTML rendering kefu makes of it (``body_html``) is escaped; files are downloads
in a sandbox; and no event carries any of it, but the delivery of a reply to the visitor's own
widget (``chat.outbound``), which carries the reply as the same text and never reaches staff."""

from __future__ import annotations

import json
import time

from kefu.domain import events as ev
from kefu.domain.event_audience import INTERNAL_EVENTS
from tests import factories
from tests.visitors import PNG_BYTES, Widget, bearer, claim

SCRIPT = '<script>alert("kefu")</script>'
IMAGE = "<img src=x onerror=alert(1)>"
PAYLOAD = f"{SCRIPT}{IMAGE}&lt;b&gt;"


def _json(answer) -> dict:
    assert answer.status_code < 300, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def test_markup_from_a_visitor_is_text_everywhere(server, anon, db, api, live_app):
    told: list[ev.Event] = []
    unsubscribe = live_app.state.bus.subscribe(lambda batch: told.extend(s.event for s in batch))
    try:
        group = factories.make_group(db, "在线客服组")
        channel = factories.make_webchat_channel(db, group_id=group.id, greeting=PAYLOAD)
        session = anon.post(
            f"/chat/api/{channel.key}/session",
            json={"identity": claim(factories.channel_secret(channel), "u1", name=PAYLOAD)},
        )
        assert session.headers["x-content-type-options"] == "nosniff"
        answer = _json(session)
        assert answer["visitor"]["name"] == PAYLOAD and answer["channel"]["greeting"] == PAYLOAD
        token = answer["visitor_token"]

        widget = Widget(server, channel.key, token)
        widget.hello()
        widget.send(type="message", client_id="x1", text=PAYLOAD)
        seq = widget.until(lambda f: f["type"] == "accepted")["seq"]
        widget.close()
        upload = _json(anon.post(
            f"/chat/api/{channel.key}/uploads", headers=bearer(token),
            files={"file": (f"{IMAGE}.png", PNG_BYTES, "image/png")},
        ))["message"]  # fmt: skip
        filename = upload["attachments"][0]["filename"]
        assert IMAGE in filename  # kept as typed: it is a name, shown as text

        listed = _json(anon.get(f"/chat/api/{channel.key}/messages", headers=bearer(token)))
        mine = {m["seq"]: m for m in listed["messages"]}
        assert mine[seq]["text"] == PAYLOAD and mine[seq]["author"] == PAYLOAD

        download = anon.get(upload["attachments"][0]["url"], headers=bearer(token))
        assert download.headers["content-security-policy"] == "sandbox"
        assert download.headers["x-content-type-options"] == "nosniff"
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;") and "\n" not in disposition
        assert "%3Cimg" in disposition  # the exact name travels percent-encoded in filename*

        # The staff API: the same text as text, and its HTML rendering escaped.
        ticket_id = _json(api.get("/api/v1/tickets", params={"channel": "webchat"}))["items"][0][
            "id"
        ]
        detail = _json(api.get(f"/api/v1/tickets/{ticket_id}"))
        message = next(m for m in detail["messages"] if m["id"] == seq)
        assert message["body_text"] == PAYLOAD
        assert "<script" not in message["body_html"] and "<img" not in message["body_html"]
        assert "&lt;script&gt;" in message["body_html"]
        customer = _json(api.get(f"/api/v1/customers/{detail['customer_id']}"))
        assert customer["name"] == PAYLOAD

        # An agent's reply with markup reaches the visitor as the same text.
        reply = _json(api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": PAYLOAD}))
        assert "<script" not in reply["body_html"]
        after = _json(anon.get(f"/chat/api/{channel.key}/messages", params={"after": seq},
                               headers=bearer(token)))  # fmt: skip
        assert [m["text"] for m in after["messages"] if m["from"] == "agent"] == [PAYLOAD]
        deadline = time.monotonic() + 30  # the relay delivers it after the commit
        while not any(isinstance(e, ev.VisitorMessage) for e in told):
            assert time.monotonic() < deadline, "the reply was never delivered"
            time.sleep(0.05)
    finally:
        unsubscribe()
    assert told, "the flow told nothing: the event check would be empty"
    deliveries = [e for e in told if isinstance(e, ev.VisitorMessage)]
    assert [e.text for e in deliveries] == [PAYLOAD]  # to the widget, as text, unmangled
    assert ev.VisitorMessage.name in INTERNAL_EVENTS  # never to a staff socket
    for event in told:
        if isinstance(event, ev.VisitorMessage):
            continue
        as_json = json.dumps(event.to_json(), ensure_ascii=False)
        assert "<" not in as_json and "alert" not in as_json, as_json
