"""The answering bot in the visitor's widget, end to end on the live server: the bot's answer
comes as a bot message with its article link and quick replies, and after 没解决 and 转人工 the
agent's API shows the whole exchange on the case, which is then in the queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import Ticket
from tests import factories
from tests.visitors import Widget, start


@pytest.fixture
def channel(db, demo_kb):
    group = factories.make_group(db, "智能助手组", calendar={"always_open": True})
    return factories.make_webchat_channel(
        db, name="机器人商城", group_id=group.id, bot_mode="first"
    )


def _bot_reply(widget: Widget, after: int) -> dict:
    frame = widget.until(
        lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
        and f["message"]["seq"] > after
    )  # fmt: skip
    return frame["message"]


def _ask(widget: Widget, client_id: str, text: str) -> int:
    widget.send(type="message", client_id=client_id, text=text)
    return widget.until(lambda f: f["type"] == "accepted" and f["client_id"] == client_id)["seq"]


def test_the_bot_answers_then_hands_off_with_the_exchange_on_the_case(
    server, anon, channel, db, api
):
    widget = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    widget.hello()
    seq = _ask(widget, "q1", "退款多久到账")
    answer = _bot_reply(widget, seq)
    assert answer["author"] == "智能助手"
    assert answer["bot"]["article"]["url"].startswith("/help/a/")
    assert answer["bot"]["quick_replies"] == ["解决了", "没解决", "转人工"]
    seq = _ask(widget, "q2", "没解决")
    following = _bot_reply(widget, seq)  # no other article fits: ask again, or a person
    assert "article" not in following["bot"]
    assert following["bot"]["quick_replies"] == ["转人工"]
    seq = _ask(widget, "q3", "转人工")
    handoff = _bot_reply(widget, seq)
    assert "人工客服" in handoff["text"] and "bot" in handoff
    widget.close()

    ticket_id = db.scalar(select(Ticket.id).where(Ticket.webchat_channel_id == channel.id))
    detail = api.get(f"/api/v1/tickets/{ticket_id}").json()
    assert detail["bot"] == {"handoff_reason": "customer_asked", "solved_by_bot": False}
    assert not detail["bot_holds"]
    said = [(m["author_type"], m["body_text"]) for m in detail["messages"]]
    assert [a for a, _ in said] == ["customer", "bot", "customer", "bot", "customer", "bot"]
    assert said[0][1] == "退款多久到账" and said[4][1] == "转人工"
