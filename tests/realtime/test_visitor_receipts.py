"""The widget's receipts reach the outbox: an agent's reply, sent by the live server's relay
through the web chat adapter, is ``delivered`` once the widget acknowledges it and ``read`` once
the visitor has seen it; a late acknowledgement never moves it back. Receipts are recorded a
moment after they come, many in one transaction (realtime/chat_runtime.py): the test waits."""

from __future__ import annotations

import time

from sqlalchemy import select

from kefu.db.models import Message, OutboxEntry
from tests import factories
from tests.visitors import Widget, start


def test_a_reply_shown_and_seen_in_the_widget_is_delivered_then_read(server, anon, db, client_for):
    group = factories.make_group(db, "组")
    channel = factories.make_webchat_channel(db, group_id=group.id)
    agent = client_for(factories.make_user(db, role="agent", groups=[group]))
    widget = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    widget.hello()
    widget.send(type="message", client_id="a", text="你好")
    seq = widget.until(lambda f: f["type"] == "accepted")["seq"]
    db.rollback()
    ticket_id = db.scalar(select(Message.ticket_id).where(Message.id == seq))
    reply = agent.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": "您好"}).json()
    shown = widget.until(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
    assert shown["message"]["seq"] == reply["id"]
    widget.send(type="ack", seq=reply["id"])
    db.rollback()
    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == reply["id"]))
    assert _state_soon(db, entry.id, "delivered") == "delivered"
    widget.send(type="read", seq=reply["id"])
    widget.send(type="ack", seq=reply["id"])  # late: changes nothing
    assert _state_soon(db, entry.id, "read") == "read"
    time.sleep(0.3)  # the late ack's batch too
    db.rollback()
    assert db.get(OutboxEntry, entry.id).state == "read"
    assert db.get(Message, reply["id"]).delivery_state == "read"
    widget.close()


def _state_soon(db, outbox_id: int, wanted: str, timeout: float = 10.0) -> str:
    """The row's state once it is ``wanted``, or whatever it is when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        db.rollback()
        state = db.get(OutboxEntry, outbox_id).state
        if state == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.02)
