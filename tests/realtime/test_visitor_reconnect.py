"""Acceptance 1 of #18: the widget's connection drops in the middle of a burst of 100 messages
each way; afterwards the visitor and the agent both hold all 200, each once, in order.

The visitor side is a real WebSocket client against the live server, behaving as the widget
does: it numbers nothing itself, keeps the messages it has not seen ``accepted`` in its outbox
and sends them again (same client ids) after reconnecting, resumes from the last seq it holds,
and shows each seq once. The agent replies through the REST API; the live server's outbox
relay hands each reply to the web chat adapter, whose event the visitor's socket shows.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from kefu.db.models import Message
from tests import factories
from tests.visitors import Widget, start

BURST = 100
DROP_AFTER = 50


def test_a_dropped_connection_mid_burst_loses_nothing_and_shows_nothing_twice(
    server, anon, db, client_for
):
    group = factories.make_group(db, "在线客服组")
    channel = factories.make_webchat_channel(db, name="演示商城", group_id=group.id)
    agent = client_for(factories.make_user(db, role="agent", groups=[group], name="王客服"))
    token = start(anon, channel.key)["visitor_token"]

    # The widget's state: what it shows (by seq), what waits for "accepted" (its outbox).
    shown: dict[int, dict] = {}
    outbox: dict[str, str] = {}
    texts = {f"c{n:03d}": f"访客第{n}条" for n in range(1, BURST + 1)}

    def take(widget: Widget) -> None:
        """Every frame read so far: messages shown once by seq, accepted ones out of the outbox."""
        for frame in widget.frames:
            if frame["type"] == "message":
                shown.setdefault(frame["message"]["seq"], frame["message"])
            elif frame["type"] == "accepted":
                outbox.pop(frame["client_id"], None)
                shown.setdefault(frame["seq"], {"seq": frame["seq"], "from": "visitor",
                                                "client_id": frame["client_id"],
                                                "text": texts[frame["client_id"]]})  # fmt: skip

    first = Widget(server, channel.key, token)
    first.hello()
    first.send(type="message", client_id="c001", text=texts["c001"])
    first.until(lambda f: f["type"] == "accepted")
    ticket_id = db.scalar(select(Message.ticket_id).where(Message.channel == "webchat"))

    replies_done, dropped = threading.Event(), threading.Event()
    failures: list[str] = []

    def agent_burst() -> None:  # half before the drop, half while away and reconnecting
        for n in range(BURST):
            if n == BURST // 2:
                dropped.wait(timeout=60)
            answer = agent.post(
                f"/api/v1/tickets/{ticket_id}/messages", json={"text": f"客服第{n}条"}
            )
            if answer.status_code != 201:
                failures.append(answer.text)
        replies_done.set()

    replying = threading.Thread(target=agent_burst)
    replying.start()

    for n in range(2, BURST + 1):
        client_id = f"c{n:03d}"
        outbox[client_id] = texts[client_id]
        if n <= DROP_AFTER:
            first.send(type="message", client_id=client_id, text=texts[client_id])
    first.until(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
    first.drop()  # mid-burst both ways: accepted frames and replies still in flight are lost
    dropped.set()
    take(first)

    second = Widget(server, channel.key, token)
    second.hello(last_seq=max(shown))
    for client_id in list(outbox):  # the unacknowledged, in the order written, then the rest
        second.send(type="message", client_id=client_id, text=outbox[client_id])
    replying.join(timeout=120)
    assert replies_done.is_set() and failures == []
    db.rollback()  # a fresh snapshot
    agent_seqs = {m.id for m in db.scalars(select(Message).where(Message.direction == "outbound"))}
    assert len(agent_seqs) == BURST

    def complete(frame: dict) -> bool:
        take(second)
        return not outbox and agent_seqs <= set(shown)

    second.until(complete, timeout=120)
    second.close()

    # The visitor: each of the 200 once, and in order on both sides of the conversation.
    for widget in (first, second):
        per_socket = [f["message"]["seq"] for f in widget.frames if f["type"] == "message"]
        assert len(per_socket) == len(set(per_socket)), "a socket sent a message twice"
    assert len(shown) == 2 * BURST
    in_order = [shown[seq] for seq in sorted(shown)]
    assert [m["text"] for m in in_order if m["from"] == "visitor"] == list(texts.values())
    assert [m["text"] for m in in_order if m["from"] == "agent"] == [
        f"客服第{n}条" for n in range(BURST)
    ]

    # The agent: the same 200 in the ticket, once each, in order.
    db.rollback()
    detail = agent.get(f"/api/v1/tickets/{ticket_id}").json()
    held = [(m["id"], m["body_text"]) for m in detail["messages"]]
    assert len(held) == 2 * BURST
    assert sorted(held) == [(seq, shown[seq]["text"]) for seq in sorted(shown)]
    assert db.query(Message).filter(Message.channel == "webchat").count() == 2 * BURST
