"""Sink: realtime events — the bus (and its JSON codec, what Redis carries between processes),
the staff WebSocket and the visitor's. Every fixture goes in as a mail case (tests/security/
cases.py) and as a web chat: a visitor's message and an agent's reply each.

Events are JSON and carry no pre-rendered HTML: the staff hear ids and codes, never a customer's
or an agent's text; the one event that carries text, a reply to the visitor's own widget
(``chat.outbound``), carries it exactly as typed, for the widget to show with textContent."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session

from kefu.domain import events as ev
from kefu.realtime import codec
from tests import factories
from tests.hostile import FIXTURES, MARKER, fitting
from tests.realtime.sockets import open_socket
from tests.security.cases import open_cases
from tests.visitors import Widget, claim

TEXTS = [f for f in fitting(50_000) if f.text.strip()]


def _strings(value: Any) -> list[tuple[str, str]]:
    """Every (key, string) inside a JSON value."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [(key, item)] if isinstance(item, str) else _strings(item)
    elif isinstance(value, list):
        for item in value:
            found += _strings(item)
    return found


def _carries_a_fixture(text: str) -> bool:
    return MARKER in text or "Bcc:" in text or "cmd|" in text or "\u202e" in text


def test_events_carry_ids_to_staff_and_exact_text_to_the_visitor(
    db: Session, integration: httpx.Client, api: httpx.Client, anon: httpx.Client,
    server: str, live_app: FastAPI,
) -> None:  # fmt: skip
    told: list[ev.Event] = []
    unsubscribe = live_app.state.bus.subscribe(lambda batch: told.extend(s.event for s in batch))
    supervisor = factories.make_user(db, role="supervisor")
    staff = open_socket(server, token=factories.make_token(db, supervisor))
    staff.hello()
    try:
        open_cases(db, integration, api)
        channel = factories.make_webchat_channel(db, group_id=factories.make_group(db).id)
        session = anon.post(f"/chat/api/{channel.key}/session",
                            json={"identity": claim(factories.channel_secret(channel), "v1", name=TEXTS[0].text)})  # fmt: skip
        assert session.status_code == 200, session.text
        widget = Widget(server, channel.key, session.json()["visitor_token"])
        widget.hello()
        answers = {}
        for n, fixture in enumerate(TEXTS):
            widget.send(type="message", client_id=f"c{n}", text=fixture.text)
            answers[fixture.name] = widget.until(
                lambda f, n=n: f["type"] in ("accepted", "error") and f.get("client_id") == f"c{n}"
            )
        tickets = api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
        ticket_id = tickets[0]["id"]
        for fixture in TEXTS:
            reply = api.post(f"/api/v1/tickets/{ticket_id}/messages",
                             json={"text": fixture.text, "norms_override_reason": "安全测试"})  # fmt: skip
            assert reply.status_code == 201, reply.text
        replies = [m["text"] for m in _agent_messages(widget, len(TEXTS))]
        widget.close()
        staff_frames = _drain(staff)
    finally:
        unsubscribe()
        staff.close()

    # The visitor: each message taken (a text longer than a chat message is an error frame);
    # each reply as the text typed, no HTML beside it.
    refused = {name: a["code"] for name, a in answers.items() if a["type"] != "accepted"}
    assert refused == {"very_long": "too_long"}, refused
    assert replies == [f.text for f in TEXTS]
    for frame in widget.frames:
        assert not [k for k, _ in _strings(frame) if "html" in k.lower()], frame
    # The bus: every event round-trips through its JSON; only chat.outbound carries text.
    assert told
    delivered = [e.text for e in told if isinstance(e, ev.VisitorMessage)]
    assert sorted(delivered) == sorted(f.text for f in TEXTS)
    for event in told:
        again = codec.decode(codec.encode(event))
        assert again == event, event
        if not isinstance(event, ev.VisitorMessage):
            texts = [t for _, t in _strings(event.to_json())]
            assert not any(_carries_a_fixture(t) for t in texts), event
    # The staff socket: JSON frames of ids and codes.
    assert staff_frames
    for frame in staff_frames:
        assert not any(_carries_a_fixture(t) for _, t in _strings(frame)), frame
    assert len(FIXTURES) > len(TEXTS)  # NUL never gets in (tests/security/test_api_json.py)


def _agent_messages(widget: Widget, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60  # the relay delivers each reply after its commit
    while len([m for m in widget.messages() if m.get("from") == "agent"]) < count:
        assert time.monotonic() < deadline, "the replies were never delivered"
        widget.receive()
    return [m for m in widget.messages() if m.get("from") == "agent"]


def _drain(socket: Any) -> list[dict[str, Any]]:
    """What the staff socket heard, up to a second of silence."""
    frames = list(socket.seen)
    try:
        while True:
            frames.append(socket.next(timeout=1.0))
    except TimeoutError:
        pass
    assert all(json.loads(json.dumps(f)) == f for f in frames)
    return frames
