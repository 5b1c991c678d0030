"""Live-chat offers on real rows: one agent at a time, the next after a timeout or a decline,
nobody over their cap, the queue and its expected wait, and the visitor told who joined."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry, Ticket
from kefu.domain.chat_offers import AgentStatus
from kefu.errors import Conflict
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets as cases
from kefu.services.staff import agent_status
from kefu.services.staff.auth import actor_for
from kefu.services.webchat import availability, offers
from kefu.services.webchat.availability import Availability
from kefu.services.webchat.channels import ChannelInfo
from tests import factories
from tests.visitors import Widget, start

RULES = offers.OfferRules(cap=2, timeout=timedelta(seconds=30))


@pytest.fixture
def group(db):
    return factories.make_group(db, "在线客服组", calendar={"always_open": True})


def _agent(db, group, name, status=AgentStatus.ONLINE):
    user = factories.make_user(db, role="agent", groups=[group], name=name)
    agent_status.do_set_status(db, SYSTEM, user, status, utcnow())
    db.commit()
    return user


def _place(db, ticket: Ticket) -> Availability:
    """What the visitor of this waiting chat is told about the queue."""
    channel = ChannelInfo.of(factories.make_webchat_channel(db, group_id=ticket.group_id))
    return availability.availability(db, channel, utcnow(), RULES, ticket)


def _chat(db, group, channel=None) -> Ticket:
    """A waiting web chat, as intake opens it."""
    ticket = factories.make_ticket(db, group=group, channel="webchat")
    if channel is not None:
        ticket.webchat_channel_id = channel.id
        db.commit()
    return ticket


def test_a_chat_is_offered_to_the_online_agent_with_the_fewest_chats(db, group):
    busy = _agent(db, group, "忙碌的", AgentStatus.BUSY)
    first = _agent(db, group, "甲")
    second = _agent(db, group, "乙")
    chats = [_chat(db, group) for _ in range(3)]
    now = utcnow()
    report = offers.offer_round(db, now, RULES)
    db.commit()
    assert report.offered == 3
    offered = [db.get(Ticket, t.id).chat_offer_user_id for t in chats]
    assert busy.id not in offered
    assert sorted(offered) == sorted([first.id, second.id, first.id])  # spread, then caps
    assert all(db.get(Ticket, t.id).chat_offer_expires_at == now + RULES.timeout for t in chats)


def test_nobody_gets_more_than_their_cap(db, group):
    agent = _agent(db, group, "甲")
    chats = [_chat(db, group) for _ in range(3)]
    assert offers.offer_round(db, utcnow(), RULES).offered == 2
    db.commit()
    waiting = [t for t in chats if db.get(Ticket, t.id).chat_offer_user_id is None]
    assert len(waiting) == 1
    assert _place(db, db.get(Ticket, waiting[0].id)).queue_position == 3
    assert agent.id in {db.get(Ticket, t.id).chat_offer_user_id for t in chats}


def test_an_offer_not_taken_in_time_goes_to_the_next_agent(db, group):
    first = _agent(db, group, "甲")
    second = _agent(db, group, "乙")
    chat = _chat(db, group)
    now = utcnow()
    offers.offer_round(db, now, RULES)
    db.commit()
    taker = db.get(Ticket, chat.id).chat_offer_user_id
    assert offers.offer_round(db, now + timedelta(seconds=29), RULES).expired == 0
    report = offers.offer_round(db, now + timedelta(seconds=30), RULES)
    db.commit()
    assert (report.expired, report.offered) == (1, 1)
    ticket = db.get(Ticket, chat.id)
    assert ticket.chat_passed_by == [taker]
    assert ticket.chat_offer_user_id == ({first.id, second.id} - {taker}).pop()


def test_when_everyone_let_it_pass_the_round_starts_over(db, group):
    only = _agent(db, group, "甲")
    chat = _chat(db, group)
    now = utcnow()
    offers.offer_round(db, now, RULES)
    offers.offer_round(db, now + timedelta(seconds=31), RULES)
    db.commit()
    ticket = db.get(Ticket, chat.id)
    assert ticket.chat_offer_user_id == only.id and ticket.chat_passed_by == []


def test_the_agent_accepts_or_declines_through_the_api(db, group, client_for, server):
    first = _agent(db, group, "甲")
    second = _agent(db, group, "乙")
    chat = _chat(db, group)
    offers.offer_round(db, utcnow(), RULES)
    db.commit()
    offered = db.get(Ticket, chat.id).chat_offer_user_id
    other = second if offered == first.id else first
    me = first if offered == first.id else second
    assert client_for(other).post(f"/api/v1/chats/{chat.id}/accept").status_code == 409
    declined = client_for(me).post(f"/api/v1/chats/{chat.id}/decline")
    assert declined.status_code == 200 and declined.json()["offered_to"] == other.id
    accepted = client_for(other).post(f"/api/v1/chats/{chat.id}/accept")
    assert accepted.status_code == 200
    assert accepted.json() == {"ticket_id": chat.id, "assignee_id": other.id, "offered_to": None}
    db.expire_all()
    ticket = db.get(Ticket, chat.id)
    assert ticket.assignee_id == other.id and ticket.chat_accepted_at is not None
    again = client_for(me).post(f"/api/v1/chats/{chat.id}/accept")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_claimed"
    outsider = factories.make_user(db, role="agent", groups=[factories.make_group(db)])
    assert client_for(outsider).post(f"/api/v1/chats/{chat.id}/accept").status_code == 404


def test_a_chat_nobody_was_offered_may_be_picked_from_the_queue(db, group):
    agent = _agent(db, group, "甲", AgentStatus.BUSY)
    chat = _chat(db, group)
    ticket = offers.do_accept(db, actor_for(agent, via="token"), chat.id, utcnow())
    assert ticket.assignee_id == agent.id
    other = _agent(db, group, "乙")
    later = _chat(db, group)
    offers.offer_round(db, utcnow(), RULES)
    db.commit()
    assert db.get(Ticket, later.id).chat_offer_user_id == other.id
    with pytest.raises(Conflict):
        offers.do_accept(db, actor_for(agent, via="token"), later.id, utcnow())


def test_the_queue_tells_the_place_and_the_wait(db, group):
    _agent(db, group, "甲")
    chats = [_chat(db, group) for _ in range(4)]
    places = [_place(db, t) for t in chats]
    assert [p.queue_position for p in places] == [1, 2, 3, 4]
    assert places[0].expected_wait == timedelta(0)  # a free seat is waiting for them
    assert places[2].expected_wait == offers.DEFAULT_AVERAGE_CHAT / 2
    lonely = factories.make_group(db, "无人组", calendar={"always_open": True})
    alone = _place(db, _chat(db, lonely))
    assert alone.online is False and alone.queue_position is None and alone.expected_wait is None
    taken = chats[0]
    offers.do_accept(db, SYSTEM, taken.id, utcnow())
    assert _place(db, taken).queue_position is None  # taken: out of the queue
    assert _place(db, chats[1]).queue_position == 1


def test_the_visitor_waits_in_the_queue_until_the_offered_agent_joins(server, anon, db, client_for):
    around_the_clock = factories.make_group(db, "全天组", calendar={"always_open": True})
    agent = _agent(db, around_the_clock, "王客服")
    channel = factories.make_webchat_channel(db, group_id=around_the_clock.id)
    as_agent = client_for(agent)  # the test's session writes nothing once the server does
    session = start(anon, channel.key)
    assert session["availability"] == {
        "online": True, "queue_position": None, "expected_wait_seconds": None,
        "expected_response": "客服马上为您服务",
    }  # fmt: skip
    widget = Widget(server, channel.key, session["visitor_token"])
    widget.hello()
    widget.send(type="message", client_id="hi", text="你好，在吗")
    widget.until(lambda f: f["type"] == "accepted")
    queue = widget.until(lambda f: f["type"] == "queue")
    assert queue == {"type": "queue", "position": 1, "expected_wait_seconds": 0}
    db.expire_all()
    ticket = db.scalar(select(Ticket).where(Ticket.channel == "webchat"))
    assert ticket.chat_offer_user_id == agent.id  # offered at once by the first message
    db.rollback()
    as_agent.post(f"/api/v1/chats/{ticket.id}/accept").raise_for_status()
    joined = widget.until(lambda f: f["type"] == "agent")
    assert joined == {"type": "agent", "name": "王客服", "joined": True}
    # Taken: no place in the queue any more; the session says so too.
    again = start(anon, channel.key, visitor_token=session["visitor_token"])
    assert again["availability"]["queue_position"] is None
    widget.close()


def test_an_agent_going_offline_tells_the_waiting_widget(server, anon, db, client_for):
    around_the_clock = factories.make_group(db, "全天组", calendar={"always_open": True})
    agent = _agent(db, around_the_clock, "王客服")
    channel = factories.make_webchat_channel(db, group_id=around_the_clock.id)
    as_agent = client_for(agent)
    widget = Widget(server, channel.key, start(anon, channel.key)["visitor_token"])
    widget.hello()
    assert widget.until(lambda f: f["type"] == "availability")["online"] is True
    as_agent.put("/api/v1/users/me/status", json={"status": "break"}).raise_for_status()
    offline = widget.until(lambda f: f["type"] == "availability")
    assert offline["online"] is False and offline["expected_response"]
    widget.close()


def test_an_agent_answering_a_waiting_chat_takes_it(db, group):
    _agent(db, group, "甲")  # the offer may go to either
    other = _agent(db, group, "乙")
    chat = _chat(db, group)
    offers.offer_round(db, utcnow(), RULES)
    db.commit()
    assert db.get(Ticket, chat.id).chat_offer_user_id is not None
    ticket = cases.access_ticket(db, actor_for(other, via="token"), chat.id, for_update=True)
    cases.do_add_message(
        db, actor_for(other, via="token"), ticket, text="您好，我来帮您", internal=False
    )
    db.commit()
    taken = db.get(Ticket, chat.id)
    assert (taken.assignee_id, taken.chat_offer_user_id) == (other.id, None)
    assert taken.chat_accepted_at is not None
    assert _place(db, taken).queue_position is None  # out of the queue
    _until_sent(db, chat.id)


def _until_sent(db, ticket_id: int) -> None:
    """The live server's relay delivers the reply to the (absent) visitor: let it finish, so its
    write does not race the next test's first one (SQLite refuses a write whose snapshot a
    commit in between made stale)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        db.rollback()
        states = set(
            db.scalars(select(OutboxEntry.state).where(OutboxEntry.ticket_id == ticket_id))
        )
        if states and "queued" not in states:
            return
        time.sleep(0.05)
    db.rollback()


def test_an_internal_note_takes_no_chat(db, group):
    agent = _agent(db, group, "甲")
    chat = _chat(db, group)
    ticket = cases.access_ticket(db, actor_for(agent, via="token"), chat.id, for_update=True)
    cases.do_add_message(db, actor_for(agent, via="token"), ticket, text="内部备注", internal=True)
    db.commit()
    assert db.get(Ticket, chat.id).chat_accepted_at is None
    assert _place(db, db.get(Ticket, chat.id)).queue_position == 1
