"""Who hears each event, generated from the event catalogue (domain/events.py): every kind is
raised on a case of group B — published through the bus as the unit of work publishes after
commit — and the staff sockets of B's agent and of outsiders (an agent and a specialist of group
A) are read up to a marker. Each kind has a recipe and an expectation in ``RECIPES``; a kind
without one fails the test, so a new event is classified before it ships (docs/security.md,
"Side paths"). The visitor socket likewise: a visitor never hears another visitor's events, and
an internal note reaches no widget, whatever event names it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import Message
from kefu.domain import events as ev
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from tests import factories
from tests.realtime.sockets import Frame, StaffSocket, open_socket
from tests.visitors import Widget, start

CANARY = "kanari7q"


class Heard(Enum):
    GROUP = "whoever may read the case: B's agent, not the outsiders"
    OWNER = "only the staff member it names (B's agent)"
    EVERYONE = "every staff member: it names no case"
    NOBODY = "no staff socket: kefu's own signal or a visitor's delivery"


@dataclass(frozen=True)
class B:
    """Group B's side of the world, as the recipes need it."""

    ticket_id: int
    customer_id: int
    message_id: int
    note_id: int
    agent_id: int
    group_id: int
    colleague_id: int


Recipe = Callable[[B], ev.Event]

RECIPES: dict[str, tuple[Recipe, Heard]] = {
    "ticket.opened": (lambda b: ev.TicketOpened(b.ticket_id, customer_id=b.customer_id, channel="web"), Heard.GROUP),
    "ticket.changed": (lambda b: ev.TicketChanged(b.ticket_id, fields=("subject", "status")), Heard.GROUP),
    "message.added": (lambda b: ev.MessageAdded(b.ticket_id, message_id=b.note_id, direction="note"), Heard.GROUP),
    "ticket.assigned": (lambda b: ev.TicketAssigned(b.ticket_id, assignee_id=b.agent_id, group_id=b.group_id), Heard.GROUP),
    "case.step": (lambda b: ev.CaseStepTaken(b.ticket_id, step="facts", stage="registered"), Heard.GROUP),
    "case.customer_feedback": (lambda b: ev.CustomerFeedback(b.ticket_id, assignee_id=b.agent_id), Heard.GROUP),
    "survey.answered": (lambda b: ev.SurveyAnswered(b.ticket_id, survey_id=1, csat=1, flagged=True), Heard.GROUP),
    "case.follow_up_due": (lambda b: ev.FollowUpDue(b.ticket_id, assignee_id=b.agent_id), Heard.GROUP),
    "sla.warn": (lambda b: ev.SlaWarned(b.ticket_id, target="first_response", assignee_id=b.agent_id, group_id=b.group_id), Heard.GROUP),
    "sla.breach": (lambda b: ev.SlaBreached(b.ticket_id, target="resolution", priority="P1", group_id=b.group_id), Heard.GROUP),
    "case.approval": (lambda b: ev.ApprovalRequested(b.ticket_id, kind="refund", amount=50_000, group_id=b.group_id), Heard.GROUP),
    "routing.crisis": (lambda b: ev.CrisisRouted(b.ticket_id, group_id=b.group_id, priority="P1", reason=CANARY), Heard.GROUP),
    "typing": (lambda b: ev.Typing(b.ticket_id, who="customer"), Heard.GROUP),
    "viewing": (lambda b: ev.Viewing(b.ticket_id, user_id=b.colleague_id, user_name="乙同事"), Heard.GROUP),
    "delivery.changed": (lambda b: ev.DeliveryChanged(b.ticket_id, message_id=b.message_id, outbox_id=1, state="sent"), Heard.GROUP),
    "notice.created": (lambda b: ev.NoticeCreated(b.ticket_id, notification_id=1, user_id=b.agent_id, kind="sla.warn"), Heard.OWNER),
    "presence": (lambda b: ev.PresenceChanged(None, user_id=b.agent_id, status="online"), Heard.EVERYONE),
    "chat.outbound": (lambda b: ev.VisitorMessage(b.ticket_id, customer_id=b.customer_id, message_id=10**8 + b.message_id, author_type="user", text=CANARY), Heard.NOBODY),
    "staff.access": (lambda b: ev.AccessChanged(None, user_id=b.colleague_id, reason="groups"), Heard.NOBODY),
}  # fmt: skip


def catalogue() -> set[str]:
    """Every event kind of domain/events.py."""
    return {
        kind.name
        for _, kind in inspect.getmembers(ev, inspect.isclass)
        if issubclass(kind, ev.Event) and kind is not ev.Event
    }


def test_every_event_of_the_catalogue_has_a_recipe():
    assert sorted(catalogue() - set(RECIPES)) == [], "add a recipe and who may hear it"
    assert sorted(set(RECIPES) - catalogue()) == []


@pytest.fixture
def staff(db, server) -> Iterator[tuple[B, dict[str, StaffSocket]]]:
    group_a, group_b = factories.make_group(db, "A组"), factories.make_group(db, "B组")
    agent_b = factories.make_user(db, groups=[group_b])
    colleague = factories.make_user(db, groups=[group_b])
    ticket = factories.make_ticket(db, group=group_b, text=f"{CANARY} 订单没到")
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    note = tickets.do_add_message(db, SYSTEM, locked, text=f"内部 {CANARY}", internal=True)
    db.commit()
    b = B(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        message_id=db.scalar(select(Message.id).where(Message.ticket_id == ticket.id)),
        note_id=note.id,
        agent_id=agent_b.id,
        group_id=group_b.id,
        colleague_id=colleague.id,
    )
    users = {
        "agent_b": agent_b,
        "agent_a": factories.make_user(db, groups=[group_a]),
        "specialist_a": factories.make_user(db, role="specialist", groups=[group_a]),
    }
    sockets = {
        name: open_socket(server, token=factories.make_token(db, u)) for name, u in users.items()
    }
    for socket in sockets.values():
        socket.hello()
    yield b, sockets
    for socket in sockets.values():
        socket.close()


def _heard_until_marker(socket: StaffSocket, marker: str) -> list[dict[str, Any]]:
    def is_marker(frame: Frame) -> bool:
        return frame.get("type") == "event" and frame["event"].get("status") == marker

    return [f["event"] for f in socket.until(is_marker) if f.get("type") == "event"][:-1]


def test_each_event_of_a_case_of_b_reaches_whoever_may_read_it_and_no_outsider(staff, live_app, db):
    b, sockets = staff
    marker_user = factories.make_user(db, role="supervisor").id
    wrong: list[str] = []
    for n, (name, (recipe, heard)) in enumerate(sorted(RECIPES.items())):
        marker = f"marker-{n}"
        live_app.state.bus.publish(
            [recipe(b), ev.PresenceChanged(None, user_id=marker_user, status=marker)]
        )
        for who, socket in sockets.items():
            got = [e for e in _heard_until_marker(socket, marker) if e["event"] == name]
            should = heard is Heard.EVERYONE or (
                who == "agent_b" and heard in (Heard.GROUP, Heard.OWNER)
            )
            if bool(got) != should:
                wrong.append(f"{name} ({heard.name}) to {who}: {'heard' if got else 'missed'}")
    assert wrong == []
    for who in ("agent_a", "specialist_a"):
        seen = sockets[who].seen
        assert all(CANARY not in str(f) for f in seen)
        assert {f["event"].get("ticket_id") for f in seen if f.get("type") == "event"} == {None}


def test_a_note_on_a_case_of_b_through_the_api_reaches_b_and_no_outsider(
    staff, client_for, db, live_app
):
    b, sockets = staff
    boss = factories.make_user(db, role="supervisor")
    note = {"text": f"备注 {CANARY}", "internal": True}
    posted = client_for(boss).post(f"/api/v1/tickets/{b.ticket_id}/messages", json=note)
    assert posted.status_code == 201, posted.text
    live_app.state.bus.publish([ev.PresenceChanged(None, user_id=boss.id, status="marker")])
    for who, socket in sockets.items():
        heard = _heard_until_marker(socket, "marker")
        notes = [e for e in heard if e.get("message_id") == posted.json()["id"]]
        assert bool(notes) == (who == "agent_b"), who


# --- the visitor socket ------------------------------------------------------------------------


@dataclass
class Visitor:
    widget: Widget
    customer_id: int
    ticket_id: int
    message_id: int


def _visitor(server, anon, db, key: str, text: str) -> Visitor:
    widget = Widget(server, key, start(anon, key)["visitor_token"])
    widget.hello()
    widget.send(type="message", client_id=f"c{len(text)}", text=text)
    widget.until(lambda f: f["type"] == "accepted")
    db.commit()  # a fresh read: the socket's session wrote it
    message = db.scalar(select(Message).where(Message.body_text == text))
    assert message is not None
    return Visitor(widget, message.ticket.customer_id, message.ticket_id, message.id)


def _marker(live_app, visitor: Visitor, n: int) -> list[dict[str, Any]]:
    """Frames of ``visitor`` up to a message only they are sent (what came before it)."""
    text = f"marker-{n}"
    live_app.state.bus.publish([ev.VisitorMessage(
        visitor.ticket_id, customer_id=visitor.customer_id, message_id=10**9 + n,
        author_type="system", text=text, created_at=utcnow(),
    )])  # fmt: skip
    before = len(visitor.widget.frames)
    visitor.widget.until(lambda f: f["type"] == "message" and f["message"]["text"] == text)
    return visitor.widget.frames[before:-1]


def test_a_visitor_hears_no_event_of_another_visitor_and_no_note_reaches_a_widget(
    server, anon, db, live_app, client_for
):
    channel = factories.make_webchat_channel(db)
    mine = _visitor(server, anon, db, channel.key, "我的问题")
    theirs = _visitor(server, anon, db, channel.key, f"他们的问题 {CANARY}")
    boss = client_for(factories.make_user(db, role="supervisor"))
    posted = boss.post(
        f"/api/v1/tickets/{theirs.ticket_id}/messages",
        json={"text": f"内部备注 {CANARY}-note", "internal": True},
    )
    assert posted.status_code == 201, posted.text
    group = factories.make_group(db)
    b = B(
        ticket_id=theirs.ticket_id,
        customer_id=theirs.customer_id,
        message_id=theirs.message_id,
        note_id=posted.json()["id"],
        agent_id=factories.make_user(db, groups=[group]).id,
        group_id=group.id,
        colleague_id=factories.make_user(db, groups=[group]).id,
    )
    forged = [  # a note named by events a widget does take: still never shown
        ev.MessageAdded(b.ticket_id, message_id=b.note_id, direction="inbound"),
        ev.VisitorMessage(b.ticket_id, customer_id=b.customer_id, message_id=b.note_id),
    ]
    events = [recipe(b) for recipe, _ in RECIPES.values()] + forged
    events.append(ev.Typing(b.ticket_id, who="agent", user_id=b.agent_id))
    for n, event in enumerate(events):
        live_app.state.bus.publish([event])
        heard_by_me = _marker(live_app, mine, n)
        assert all(CANARY not in str(f) and f["type"] != "typing" for f in heard_by_me), event
        heard_by_them = _marker(live_app, theirs, n)
        assert all(f"{CANARY}-note" not in str(f) for f in heard_by_them), event
    assert any(
        CANARY in str(f) and f["type"] == "message" for f in theirs.widget.frames
    )  # their own reply (chat.outbound) did reach them: the test reads what they are sent
    for visitor in (mine, theirs):
        visitor.widget.close()


def test_the_recipes_and_the_audiences_know_the_same_kinds():
    """Who hears a kind is decided once, in domain/event_audience.py: every kind is there."""
    from kefu.domain.event_audience import AGENT_EVENTS, INTERNAL_EVENTS

    assert set(AGENT_EVENTS) | INTERNAL_EVENTS == catalogue()
