"""Domain events through the running server: every change others should hear of is published
once, after its transaction committed (the row is there when the subscriber looks), and a
refused change publishes nothing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Message, Ticket
from kefu.domain import events as ev
from kefu.realtime.bus import Stored
from kefu.services.sla.clocks import sweep_until_done
from tests import factories
from tests.api.test_inbound import _payload


class Heard:
    """What the live app's bus published, and whether each event's rows were committed when it did."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.events: list[ev.Event] = []
        self.unseen: list[ev.Event] = []  # published before their rows could be read
        self.lock = threading.Lock()

    def __call__(self, stored: Sequence[Stored]) -> None:
        published = [s.event for s in stored]
        with Session(self.engine) as look:  # another connection sees only what was committed
            for event in published:
                missing = (
                    (isinstance(event, ev.TicketOpened) and look.get(Ticket, event.ticket_id) is None)
                    or (isinstance(event, ev.MessageAdded) and look.get(Message, event.message_id) is None)
                )  # fmt: skip
                if missing:
                    self.unseen.append(event)
        with self.lock:
            self.events.extend(published)

    def names(self, ticket_id: int) -> Counter[str]:
        with self.lock:
            return Counter(e.name for e in self.events if e.ticket_id == ticket_id)

    def clear(self) -> None:
        with self.lock:
            self.events.clear()


@pytest.fixture
def heard(live_app, engine) -> Iterator[Heard]:
    listener = Heard(engine)
    unsubscribe = live_app.state.bus.subscribe(listener)
    yield listener
    unsubscribe()


def _settle(heard: Heard, seconds: float = 0.3) -> None:
    """Publishing happens right after the commit, before the answer goes out; a moment more
    lets any event that should not be there show up."""
    time.sleep(seconds)


def test_intake_and_an_agents_work_publish_each_event_once_after_commit(
    integration, client_for, db, heard
):
    group = factories.make_group(db)
    agent = factories.make_user(db, groups=[group])
    posted = integration.post(
        "/api/v1/inbound", json=_payload("ev-1", "ev", "我的快递五天了还没到")
    )
    assert posted.status_code == 201
    ticket_id = posted.json()["ticket_id"]
    _settle(heard)
    assert heard.names(ticket_id) == Counter({"ticket.opened": 1, "message.added": 1})
    again = integration.post("/api/v1/inbound", json=_payload("ev-1", "ev", "我的快递五天了还没到"))
    assert again.json()["duplicate"] is True  # a redelivery changes nothing: no event
    _settle(heard)
    assert heard.names(ticket_id) == Counter({"ticket.opened": 1, "message.added": 1})

    heard.clear()
    api = client_for(agent)
    assert api.post(f"/api/v1/tickets/{ticket_id}/claim").status_code == 200
    reply = api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": "您好，我马上为您查询"})
    assert reply.status_code == 201
    _settle(heard)
    assert heard.names(ticket_id) == Counter(
        {"ticket.changed": 2, "ticket.assigned": 1, "message.added": 1}
    )
    changed = [e for e in heard.events if isinstance(e, ev.TicketChanged)]
    assert [c.fields for c in changed] == [
        ("assignee_id",),
        ("status",),
    ]  # claimed; replied: new → open
    assert heard.unseen == []


def test_a_refused_change_publishes_nothing(integration, client_for, db, heard):
    posted = integration.post(
        "/api/v1/inbound", json=_payload("ev-2", "ev2", "你们的东西质量太差了，我要投诉")
    )
    ticket_id = posted.json()["ticket_id"]
    agent = factories.make_user(db)
    api = client_for(agent)
    _settle(heard)
    heard.clear()
    refused = api.patch(
        f"/api/v1/tickets/{ticket_id}", json={"status": "resolved"}
    )  # a complaint takes its steps
    assert refused.status_code == 409
    missing = api.post(f"/api/v1/tickets/{ticket_id}/steps", json={"action": "advance"})
    assert missing.status_code == 409
    nobody = api.patch(f"/api/v1/tickets/{ticket_id}", json={"assignee_id": 999_999})
    assert nobody.status_code == 404
    _settle(heard)
    assert heard.names(ticket_id) == Counter()


def test_an_sla_breach_publishes_its_escalation_and_the_notices_it_made(live_app, db, heard):
    group = factories.make_group(db, calendar={"always_open": True})
    boss = factories.make_user(db, role="supervisor", groups=[group])
    ticket = factories.make_ticket(db, group=group, channel="webchat")
    db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(created_at=utcnow() - timedelta(minutes=5))
    )
    db.commit()
    sessions = live_app.state.session_factories.write
    sweep_until_done(sessions, utcnow)
    sweep_until_done(sessions, utcnow)  # a second sweep finds nothing new to tell
    names = heard.names(ticket.id)
    assert names["sla.breach"] == 1 and names["notice.created"] >= 1
    notices = [
        e for e in heard.events if isinstance(e, ev.NoticeCreated) and e.ticket_id == ticket.id
    ]
    assert boss.id in {n.user_id for n in notices} and all(n.notification_id for n in notices)
