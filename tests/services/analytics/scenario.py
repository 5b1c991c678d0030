"""A small day of cases whose KPI figures are worked out by hand (in the tests that use it).

All on 2026-12-01 (Asia/Shanghai), UTC times below; one case on 11-29 lies outside the period.

T1 web P3, group G, agent A, line:外卖: customer 02:00, reply 02:04 (240 s); resolved 03:00; SLA
   met (first response due 02:30, resolution due 06:00).
T2 email P2, group G, line:外卖, moved from A to B (one transfer): customer 02:00, reply 02:10,
   customer 02:20, reply 02:50; resolved 04:00 after one reopen; first response due 02:05 and
   breached (an SLA event), escalated once. Handle time 600 + min(1800, 600) = 1200 s.
T3 web P2, complaint archived and closed, repeat complaint, agent B: customer 02:00, never
   answered; resolved 05:00, closed 06:00.
T4 web P4, the bot answered 02:01 and solved it (bot conversation), resolved 02:02.
T5 web P4, complaint still registered (受理登记), open, unanswered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from kefu.db.models import BotConversation, Message, SlaEvent, Tag, Ticket
from kefu.db.models.tickets import ticket_tags
from kefu.domain.tickets import AuthorType, Direction
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from tests import factories
from tests.factories import _writes

DAY = date(2026, 12, 1)
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Scenario:
    group_id: int
    agent_a: int
    agent_b: int
    tickets: dict[str, int]


def build(db: Any) -> Scenario:
    group = factories.make_group(db, "分析组")
    a = factories.make_user(db, role="agent", groups=[group], name="甲")
    b = factories.make_user(db, role="agent", groups=[group], name="乙")
    made = {
        name: factories.make_ticket(db, text=f"{name} 订单问题")
        for name in "T1 T2 T3 T4 T5 T6".split()
    }
    for name in ("T1", "T2"):
        factories.make_reply(db, made[name])
    factories.make_reply(db, made["T2"])
    ids = {name: t.id for name, t in made.items()}
    _shape(db, ids, group.id, a.id, b.id)
    _transfer(db, ids["T2"], b.id)
    _add_rows(db, ids)
    return Scenario(group.id, a.id, b.id, ids)


@_writes
def _shape(db: Any, ids: dict[str, int], group_id: int, a: int, b: int) -> None:
    """The tickets' columns and their messages' times, as the story above tells."""
    plain: dict[str, Any] = {
        "first_response_at": None, "resolved_at": None, "closed_at": None, "reopen_count": 0,
        "first_response_due_at": None, "resolution_due_at": None, "escalations": 0,
        "case_path": "short", "stage": "open", "repeat_complaint": False,
        "group_id": None, "assignee_id": None, "status": "open", "category": None,
    }  # fmt: skip
    columns: dict[str, dict[str, Any]] = {
        "T1": {"channel": "web", "priority": "P3", "group_id": group_id, "assignee_id": a,
               "first_response_at": at(4), "status": "resolved", "resolved_at": at(60),
               "first_response_due_at": at(30), "resolution_due_at": at(240)},
        "T2": {"channel": "email", "priority": "P2", "group_id": group_id, "assignee_id": a,
               "first_response_at": at(10), "status": "resolved", "resolved_at": at(120),
               "reopen_count": 1, "first_response_due_at": at(5), "escalations": 1},
        "T3": {"channel": "web", "priority": "P2", "group_id": group_id, "assignee_id": b,
               "case_path": "complaint", "stage": "archived", "repeat_complaint": True,
               "status": "closed", "resolved_at": at(180), "closed_at": at(240)},
        "T4": {"channel": "web", "priority": "P4", "first_response_at": at(1),
               "status": "resolved", "resolved_at": at(2)},
        "T5": {"channel": "web", "priority": "P4", "case_path": "complaint", "stage": "registered"},
        "T6": {"channel": "web", "priority": "P4", "status": "resolved", "resolved_at": at(-2 * 24 * 60)},
    }  # fmt: skip
    for name, values in columns.items():
        created = at(-3 * 24 * 60) if name == "T6" else T0
        db.execute(
            update(Ticket)
            .where(Ticket.id == ids[name])
            .values(plain | values | {"created_at": created})
        )
    times = {"T1": [0, 4], "T2": [0, 10, 50], "T6": []}
    for name, ticket_id in ids.items():
        messages = db.query(Message).filter(Message.ticket_id == ticket_id).order_by(Message.id)
        minutes = times.get(name, [0])
        for message, minute in zip(messages, minutes, strict=False):
            message.created_at = at(minute)
            if message.direction == Direction.OUTBOUND.value:  # the factory replies as the system
                message.author_type, message.author_user_id = AuthorType.USER.value, a
        if name == "T6":
            for message in messages:
                message.created_at = at(-3 * 24 * 60)
    db.commit()


@_writes
def _transfer(db: Any, ticket_id: int, to_agent: int) -> None:
    ticket = tickets.access_ticket(db, SYSTEM, ticket_id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, ticket, {"assignee_id": to_agent})
    db.commit()


@_writes
def _add_rows(db: Any, ids: dict[str, int]) -> None:
    """The second customer message of T2, the bot's answer on T4, T2's breach, the line tags."""
    t2, t4 = ids["T2"], ids["T4"]
    db.add(
        Message(
            ticket_id=t2,
            channel="email",
            direction=Direction.INBOUND.value,
            author_type=AuthorType.CUSTOMER.value,
            body_text="还是没收到",
            created_at=at(20),
        )
    )
    db.add(
        Message(
            ticket_id=t4,
            channel="web",
            direction=Direction.OUTBOUND.value,
            author_type=AuthorType.BOT.value,
            body_text="已为您查到",
            created_at=at(1),
        )
    )
    db.add(
        BotConversation(
            ticket_id=t4,
            channel="web",
            state={},
            last_message_id=0,
            solved_by_bot=True,
            started_at=T0,
        )
    )
    db.add(
        SlaEvent(
            ticket_id=t2,
            key="first_response:breach:x",
            target="first_response",
            kind="breach",
            due_at=at(5),
            fired_at=at(5),
        )
    )
    tag = Tag(name="line:外卖")
    db.add(tag)
    db.flush()
    for name in ("T1", "T2"):
        db.execute(ticket_tags.insert().values(ticket_id=ids[name], tag_id=tag.id))
    db.commit()
