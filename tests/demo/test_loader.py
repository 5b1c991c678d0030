"""``load_demo`` against a real database (SQLite, or PostgreSQL with KEFU_TEST_DATABASE_URL).

Loading takes a while, so one test loads once and checks the whole data set, each aspect
in its own helper; the second call must then find the data and add nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import (
    AuditEvent,
    Customer,
    Group,
    Identity,
    InboundPayload,
    Message,
    OutboxEntry,
    Ticket,
    TicketField,
    User,
)
from kefu.demo.content import load_content
from kefu.demo.loader import DEMO_PASSWORD, DEMO_USERS, load_demo
from kefu.domain.triage_labels import Category, Emotion, Intent
from kefu.services.actors import SYSTEM
from kefu.services.customers import profiles as customers
from kefu.services.staff import directory as staff
from kefu.services.staff.auth import authenticate

CJK = re.compile(r"[\u4e00-\u9fff]")
REQUIRED_GROUPS = {"售前组", "售后组", "投诉处理组", "技术支持组"}


def _counts(db: Session) -> dict[str, int]:
    models = (User, Group, Customer, Identity, Ticket, Message, AuditEvent, InboundPayload)
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_load_demo_creates_the_data_set_once(db: Session) -> None:
    started = utcnow()
    assert load_demo(db) is True
    db.commit()

    _check_team(db)
    # The demo prints its one password and signs in with it: no change asked (ASVS V6.4.1).
    assert db.scalars(select(User.must_change_password)).all() == [False] * len(DEMO_USERS)
    _check_customers(db)
    _check_tickets(db)
    _check_messages(db)
    _check_timestamps(db, started)
    _check_audit(db)
    _check_routing(db)
    _check_order_fields(db)

    before = _counts(db)
    assert load_demo(db) is False
    db.commit()
    assert _counts(db) == before

    # The backdating is over: what is written now is stamped now.
    later = customers.do_create_customer(db, SYSTEM, name="新客户")
    db.flush()
    assert later.created_at >= started


def _check_order_fields(db: Session) -> None:
    """The demo cases carry their order number, product and tracking number (demo/orders.py)."""
    fields = db.scalars(select(TicketField).order_by(TicketField.position)).all()
    assert [(f.key, f.label) for f in fields] == [
        ("order_no", "订单号"), ("product", "商品名称"), ("tracking_no", "快递单号"),
    ]  # fmt: skip
    carrying = [t for t in db.scalars(select(Ticket)) if t.fields]
    assert len(carrying) >= 20
    catalog = load_content().catalog
    for ticket in carrying:
        assert ticket.fields["order_no"] in " ".join(m.body_text for m in ticket.messages)
        product = catalog.products[int(ticket.fields["order_no"][-2:])].name
        assert ticket.fields["product"] == product
        assert ticket.order_lookup["state"] == "pending" and ticket.order_lookup_due_at


def test_load_demo_leaves_a_database_alone_that_has_a_group_of_its_names(db: Session) -> None:
    staff.do_create_group(db, SYSTEM, name="售后组")
    db.commit()
    before = _counts(db)
    assert load_demo(db) is False
    assert _counts(db) == before


def test_demo_users_cover_every_role_and_group() -> None:
    roles = Counter(role for _, _, role, _ in DEMO_USERS)
    assert roles["admin"] == 1 and roles["supervisor"] == 1 and roles["specialist"] == 2
    members = Counter(g for _, _, role, groups in DEMO_USERS if role == "agent" for g in groups)
    assert members["售前组"] >= 2 and members["售后组"] >= 2 and 1 <= members["技术支持组"] <= 2
    specialists = [groups for _, _, role, groups in DEMO_USERS if role == "specialist"]
    assert all("投诉处理组" in groups for groups in specialists)
    assert all(
        email.endswith("@demo.kefu") and CJK.search(name) for email, name, _, _ in DEMO_USERS
    )


def _check_team(db: Session) -> None:
    assert REQUIRED_GROUPS <= set(db.scalars(select(Group.name)))
    for email, name, role, groups in DEMO_USERS:
        user = authenticate(db, email, DEMO_PASSWORD)
        assert (user.name, user.role) == (name, role)
        assert sorted(g.name for g in user.groups) == sorted(groups)


def _check_customers(db: Session) -> None:
    customers = db.scalar(select(func.count()).select_from(Customer)) or 0
    assert 60 <= customers <= 80
    channels_per_customer = db.execute(
        select(Identity.customer_id, func.count(func.distinct(Identity.channel))).group_by(
            Identity.customer_id
        )
    ).all()
    assert sum(1 for _, n in channels_per_customer if n >= 2) >= 10
    assert sum(1 for _, n in channels_per_customer if n >= 3) >= 3
    channels = set(db.scalars(select(Identity.channel)))
    assert {"wechat", "email", "phone", "webchat", "api"} <= channels
    vip = [c for c in db.scalars(select(Customer)) if "VIP" in {t.name for t in c.tags}]
    assert len(vip) >= 3


def _check_tickets(db: Session) -> None:
    tickets = list(db.scalars(select(Ticket)))
    assert 300 <= len(tickets) <= 400
    assert {t.status for t in tickets} == {"new", "open", "pending", "resolved", "closed"}
    for ticket in tickets:
        assert ticket.priority == "P1" if ticket.risks else ticket.priority != "P1"
        assert Category(ticket.category) and Intent(ticket.intent) and Emotion(ticket.emotion)
        if ticket.status != "new":
            assert ticket.assignee_id is not None and ticket.group_id is not None
    assert sum(1 for t in tickets if t.assignee_id is None) >= 5
    assert sum(1 for t in tickets if t.reopen_count) >= 1
    assert len({t.customer_id for t in tickets}) >= 50


def _check_messages(db: Session) -> None:
    inbound = set(db.scalars(select(Message.ticket_id).where(Message.direction == "inbound")))
    assert inbound == set(db.scalars(select(Ticket.id)))
    per_ticket = db.execute(
        select(Message.ticket_id, func.count()).group_by(Message.ticket_id)
    ).all()
    assert all(1 <= n <= 6 for _, n in per_ticket)
    texts = list(db.scalars(select(Message.body_text)))
    assert sum(1 for t in texts if CJK.search(t)) >= 0.95 * len(texts)
    directions = Counter(db.scalars(select(Message.direction)))
    assert directions["inbound"] and directions["outbound"] and directions["note"]
    # The replies of the history reached their customers long ago: nothing is sent again.
    assert db.scalar(select(func.count()).select_from(OutboxEntry)) == 0
    assert set(db.scalars(select(Message.delivery_state))) == {None}
    orders = [o for t in texts for o in re.findall(r"SL\d+", t)]
    assert orders and all(re.fullmatch(r"SL20\d{8}", o) for o in orders)


def _check_timestamps(db: Session, started: datetime) -> None:
    """History spread over two months, consistent with itself, and never in the future."""
    now = utcnow()
    for ticket in db.scalars(select(Ticket)):
        messages = list(
            db.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id))
        )
        times = [m.created_at for m in messages]
        assert times == sorted(times)
        assert all(t.tzinfo is not None and t <= now for t in times)
        assert abs(ticket.created_at - times[0]) < timedelta(seconds=1)
        replies = [m.created_at for m in messages if m.direction == "outbound"]
        assert ticket.first_response_at == (replies[0] if replies else None)
        if ticket.status in ("resolved", "closed"):
            assert ticket.resolved_at is not None and ticket.resolved_at >= times[-1]
        if ticket.status == "closed":
            assert ticket.closed_at is not None and ticket.resolved_at is not None
            assert ticket.closed_at >= ticket.resolved_at
        if ticket.status in ("new", "open", "pending"):
            assert ticket.resolved_at is None and ticket.closed_at is None
        assert ticket.updated_at <= now
    oldest = db.scalar(select(func.min(Ticket.created_at)))
    assert oldest is not None and started - oldest > timedelta(days=45)
    events = list(db.scalars(select(AuditEvent.created_at).order_by(AuditEvent.id)))
    assert events == sorted(events) and events[-1] <= now


def _check_audit(db: Session) -> None:
    actions = Counter(db.scalars(select(AuditEvent.action)))
    for action in (
        "user.create", "group.create", "customer.create", "ticket.create", "ticket.inbound",
        "ticket.update", "ticket.reply", "ticket.note", "ticket.claim",
    ):  # fmt: skip
        assert actions[action] > 0, action
    assert actions["ticket.create"] == db.scalar(select(func.count()).select_from(Ticket))


def _check_routing(db: Session) -> None:
    """The reference routing rules, in their order, each pointing at its demo group."""
    from kefu.db.models import RoutingRule

    rules = db.scalars(select(RoutingRule).order_by(RoutingRule.position)).all()
    assert [(r.name, r.group.name) for r in rules] == [
        ("隐私合规", "合规组"),
        ("产品安全", "产品安全组"),
        ("危机升级", "投诉处理组"),
        ("质量投诉", "售后组"),
        ("技术故障", "技术支持组"),
        ("售前咨询", "售前组"),
        ("售后服务", "售后组"),
    ]
    assert [r.notify_supervisor for r in rules] == [True, True, True, False, False, False, False]
