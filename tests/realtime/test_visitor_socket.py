"""The visitor's WebSocket against the live server: who may open it, the hello and its replay,
messages stored once per client id and in the visitor's order, errors, typing, the agent."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from kefu.channels.base import OutboundDelivery
from kefu.channels.webchat import WebchatAdapter
from kefu.db.models import Message, Ticket
from kefu.domain import events as ev
from kefu.domain.tickets import Channel
from tests import factories
from tests.visitors import Widget, bearer, refused_with, start


@pytest.fixture
def channel(db):
    group = factories.make_group(db, "在线客服组")
    return factories.make_webchat_channel(db, name="演示商城", group_id=group.id)


@pytest.fixture
def widget(server, anon, channel):
    session = start(anon, channel.key)
    opened = Widget(server, channel.key, session["visitor_token"])
    yield opened
    opened.close()


def test_a_visitor_writes_and_the_message_is_stored_once_per_client_id(widget, db, channel):
    ready = widget.hello()
    assert ready == {"type": "ready", "last_seq": 0}
    client_id = uuid.uuid4().hex
    widget.send(type="message", client_id=client_id, text="我的快递一周了还没到！")
    accepted = widget.until(lambda f: f["type"] == "accepted")
    assert accepted["client_id"] == client_id and accepted["seq"] > 0
    widget.send(type="message", client_id=client_id, text="我的快递一周了还没到！")
    again = widget.until(lambda f: f["type"] == "accepted")
    assert again == accepted
    stored = db.scalars(select(Message).where(Message.channel == "webchat")).all()
    assert [m.id for m in stored] == [accepted["seq"]]
    ticket = db.get(Ticket, stored[0].ticket_id)
    assert ticket.channel == Channel.WEBCHAT
    assert ticket.webchat_channel_id == channel.id
    assert ticket.group_id == channel.group_id


def test_hello_replays_what_was_missed_after_the_seq(server, anon, channel):
    token = start(anon, channel.key)["visitor_token"]
    first = Widget(server, channel.key, token)
    first.hello()
    seqs = []
    for n in range(3):
        first.send(type="message", client_id=f"m{n}", text=f"第{n}条")
        seqs.append(first.until(lambda f: f["type"] == "accepted")["seq"])
    first.close()
    second = Widget(server, channel.key, token)
    ready = second.hello(last_seq=seqs[0])
    replayed = [m["seq"] for m in second.messages()]
    # Everything after the named seq, and maybe the few just before it (the overlap).
    assert replayed[-2:] == seqs[1:] and set(replayed) <= set(seqs)
    assert ready["last_seq"] == seqs[-1]
    assert [m["client_id"] for m in second.messages()][-2:] == ["m1", "m2"]
    assert all(m["from"] == "visitor" for m in second.messages())
    second.close()


def test_refusals_say_what_is_wrong(server, anon, channel, db):
    token = start(anon, channel.key)["visitor_token"]
    assert refused_with(server, channel.key, "v1.forged.token") == 4401
    assert refused_with(server, "wc_nosuchchannel", token) == 4404
    other = factories.make_webchat_channel(db)
    assert refused_with(server, other.key, token) == 4401  # a token of another channel
    # A page of another site: the handshake itself is refused.
    assert refused_with(server, channel.key, token, origin="https://evil.example") == 403
    assert refused_with(server, channel.key, token, origin=server) is None  # kefu's own page


def test_allowed_origins_open_the_socket_to_those_sites_only(server, anon, db, api):
    made = api.post(
        "/api/v1/webchat/channels",
        json={"name": "商城", "allowed_origins": ["https://Shop.example.cn/"]},
    ).json()
    token = start(anon, made["key"])["visitor_token"]
    assert refused_with(server, made["key"], token, origin="https://shop.example.cn") is None
    assert refused_with(server, made["key"], token, origin="https://shop.example.cn.evil.io") == 403
    assert refused_with(server, made["key"], token, origin=server) == 403  # not listed


def test_bad_frames_are_answered_with_errors_not_a_closed_socket(widget, live_app):
    widget.hello()
    widget.socket.send("{not json")
    assert widget.until(lambda f: f["type"] == "error")["code"] == "invalid_json"
    widget.send(type="message", client_id="bad id with spaces", text="你好")
    assert widget.until(lambda f: f["type"] == "error")["code"] == "validation_error"
    limit = live_app.state.settings.webchat_max_message_chars
    widget.send(type="message", client_id="long", text="长" * (limit + 1))
    too_long = widget.until(lambda f: f["type"] == "error")
    assert too_long["code"] == "too_long" and too_long["client_id"] == "long"
    assert str(limit) in too_long["message"]
    widget.send(type="message", client_id="nul", text="a\x00b")
    assert widget.until(lambda f: f["type"] == "error")["code"] == "validation_error"
    widget.send(type="ping")
    assert widget.until(lambda f: f["type"] in ("pong", "error"))["type"] == "pong"


def test_the_visitor_typing_is_told_to_staff_and_an_agents_typing_to_the_visitor(
    widget, live_app, db, channel
):
    seen: list[ev.Event] = []
    unsubscribe = live_app.state.bus.subscribe(lambda batch: seen.extend(s.event for s in batch))
    try:
        widget.hello()
        widget.send(type="message", client_id="first", text="在吗？")
        seq = widget.until(lambda f: f["type"] == "accepted")["seq"]
        ticket_id = db.scalar(select(Message.ticket_id).where(Message.id == seq))
        widget.send(type="typing")
        widget.send(type="ping")
        widget.until(lambda f: f["type"] == "pong")
        assert ev.Typing(ticket_id, who="customer") in seen
        agent = factories.make_user(db, name="李客服")
        live_app.state.bus.publish([ev.Typing(ticket_id, who="agent", user_id=agent.id)])
        typing = widget.until(lambda f: f["type"] == "typing")
        assert typing == {"type": "typing", "who": "agent", "name": "李客服"}
    finally:
        unsubscribe()


def test_a_visitor_hears_nothing_of_another_visitors_conversation(server, anon, channel, db):
    mine = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    theirs = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    mine.hello()
    theirs.hello()
    theirs.send(type="message", client_id="x", text="我的订单号是 SL1234")
    theirs.until(lambda f: f["type"] == "accepted")
    mine.send(type="message", client_id="y", text="你好")
    mine.until(lambda f: f["type"] == "accepted")
    mine.send(type="ping")
    mine.until(lambda f: f["type"] == "pong")
    assert all("SL1234" not in str(f) for f in mine.frames)
    assert db.scalar(select(func.count()).select_from(Ticket)) == 2
    mine.close()
    theirs.close()


def test_the_session_answer_and_the_socket_agree_on_the_last_seq(server, anon, channel):
    session = start(anon, channel.key)
    widget = Widget(server, channel.key, session["visitor_token"])
    widget.hello()
    widget.send(type="message", client_id="a", text="你好")
    seq = widget.until(lambda f: f["type"] == "accepted")["seq"]
    widget.close()
    again = start(anon, channel.key, visitor_token=session["visitor_token"])
    assert again["last_seq"] == seq
    listed = anon.get(
        f"/chat/api/{channel.key}/messages", headers=bearer(again["visitor_token"])
    ).json()
    assert [m["seq"] for m in listed["messages"]] == [seq] and listed["last_seq"] == seq


def test_a_reply_sent_by_the_adapter_reaches_the_visitor_and_a_note_never_does(
    server, anon, channel, db, client_for, live_app
):
    agent = factories.make_user(db, role="agent", groups=[db.merge(channel).group])
    client = client_for(agent)  # before the server writes: the test's session writes no more
    mine = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    theirs = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    for widget, text in ((mine, "我的问题"), (theirs, "别人的问题")):
        widget.hello()
        widget.send(type="message", client_id="q", text=text)
        widget.until(lambda f: f["type"] == "accepted")
    ticket = db.scalar(select(Ticket).order_by(Ticket.id).limit(1))
    note = client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "内部：此客户难缠", "internal": True}
    ).json()
    reply = client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "您好，我来帮您"}
    ).json()
    adapter = WebchatAdapter(live_app.state.bus.publish)
    delivery = OutboundDelivery(
        outbox_id=1, idempotency_key="k", channel="webchat", kind="message",
        target={"customer_id": ticket.customer_id}, ticket_id=ticket.id, message_id=reply["id"],
        text=reply["body_text"],
    )  # fmt: skip
    adapter.send(delivery)
    adapter.send(delivery)  # a relay killed before marking sends again: shown once
    shown = mine.until(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
    assert shown["message"]["seq"] == reply["id"] and shown["message"]["text"] == "您好，我来帮您"
    # A forged event naming the note is no way to show it: notes are not the conversation.
    live_app.state.bus.publish([ev.VisitorMessage(ticket.id, customer_id=ticket.customer_id,
                                                  message_id=note["id"], outbox_id=2)])  # fmt: skip
    for widget in (mine, theirs):
        widget.send(type="ping")
        widget.until(lambda f: f["type"] == "pong")
    # What a widget wrote comes back as "accepted" (it shows it already), the reply as a message.
    assert [m["text"] for m in mine.messages()] == ["您好，我来帮您"]
    assert theirs.messages() == []
    assert all("难缠" not in str(f) for f in mine.frames + theirs.frames)
    mine.close()
    theirs.close()


def test_a_visitors_other_tab_shows_what_they_wrote(server, anon, channel):
    token = start(anon, channel.key)["visitor_token"]
    first_tab = Widget(server, channel.key, token)
    first_tab.hello()
    first_tab.send(type="message", client_id="a", text="第一条")
    first_tab.until(lambda f: f["type"] == "accepted")
    second_tab = Widget(server, channel.key, token)
    second_tab.hello(last_seq=0)
    first_tab.send(type="message", client_id="b", text="第二条")
    shown = second_tab.until(lambda f: f["type"] == "message" and f["message"]["client_id"] == "b")
    assert shown["message"]["text"] == "第二条"
    assert [m["client_id"] for m in second_tab.messages()] == ["a", "b"]
    first_tab.close()
    second_tab.close()
