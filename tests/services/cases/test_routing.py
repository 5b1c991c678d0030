"""Routing by the sweep: the admin's rules in the database, assignment to online agents with room."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Notification, RoutingRule, Ticket, User
from kefu.services.actors import SYSTEM
from kefu.services.cases import routing, tickets
from kefu.services.intake import inbound
from kefu.services.sla import clocks as sla
from tests import factories

GROUPS = ("售前组", "售后组", "投诉处理组", "技术支持组", "合规组", "产品安全组")


def _sweep(engine):
    return sla.sweep_until_done(make_session_factory(writer_bind(engine)), utcnow)


def _setup(db, online=True, capacity=10):
    groups = {
        name: factories.make_group(db, name=name, calendar={"always_open": True}) for name in GROUPS
    }
    supervisor = factories.make_user(
        db, role="supervisor", groups=[groups["投诉处理组"]], name="陈静"
    )
    busy = factories.make_user(db, role="specialist", groups=[groups["投诉处理组"]], name="郑丽")
    free = factories.make_user(db, role="specialist", groups=[groups["投诉处理组"]], name="何军")
    after_sale = factories.make_user(db, groups=[groups["售后组"]], name="张伟")
    db.execute(
        update(User)
        .where(User.id.in_([busy.id, free.id, after_sale.id]))
        .values(online=online, capacity=capacity)
    )
    db.commit()
    assert routing.ensure_default_rules(db) == 7
    assert routing.ensure_default_rules(db) == 0  # once
    db.commit()
    return groups, supervisor, busy, free, after_sale


def _case(db, **triage):
    ticket = factories.make_ticket(db, channel="webchat")
    tickets.do_update_ticket(db, SYSTEM, ticket, triage)
    db.commit()
    return ticket


def test_a_crisis_goes_to_the_complaints_group_its_least_loaded_specialist_and_the_supervisor_hears(
    engine, db
):
    groups, supervisor, busy, free, _ = _setup(db)
    for _ in range(3):  # 郑丽 already holds three open cases
        factories.make_ticket(db, group=groups["投诉处理组"], assignee_id=busy.id)
    crisis = _case(db, priority="P1", risks=["media"], intent="complaint", category="return_refund")
    report = _sweep(engine)
    assert report.routed == 1
    db.refresh(crisis)
    assert (crisis.group_id, crisis.assignee_id) == (groups["投诉处理组"].id, free.id)
    reason = db.scalar(
        select(AuditEvent.after).where(
            AuditEvent.action == "ticket.route", AuditEvent.ticket_id == crisis.id
        )
    )["reason"]
    assert reason == "规则「危机升级」→ 投诉处理组 → 负载最低的何军（0/10）"
    assert (
        db.scalar(select(Notification.user_id).where(Notification.kind == "routing.crisis"))
        == supervisor.id
    )
    assert (
        crisis.first_response_due_at is not None
    )  # deadlines set in the same sweep, by the group's hours


def test_privacy_and_safety_go_to_their_own_groups(engine, db):
    groups, *_ = _setup(db)
    privacy = _case(db, priority="P1", risks=["privacy"], category="account_privacy")
    safety = _case(db, priority="P1", risks=["safety"], category="quality")
    _sweep(engine)
    db.refresh(privacy)
    db.refresh(safety)
    assert privacy.group_id == groups["合规组"].id and safety.group_id == groups["产品安全组"].id


def test_nobody_online_or_with_room_leaves_the_case_in_the_groups_queue(engine, db):
    groups, *_ = _setup(db, online=False)
    case = _case(db, intent="complaint", category="quality", priority="P2")
    _sweep(engine)
    db.refresh(case)
    assert case.group_id == groups["售后组"].id and case.assignee_id is None
    reason = db.scalar(select(AuditEvent.after).where(AuditEvent.action == "ticket.route"))[
        "reason"
    ]
    assert reason.endswith("暂无在线且有余量的客服，进入组内队列")


def test_an_agent_at_capacity_is_passed_over(engine, db):
    groups, _, _, _, after_sale = _setup(db, capacity=1)
    factories.make_ticket(db, group=groups["售后组"], assignee_id=after_sale.id)
    case = _case(db, intent="inquiry", category="logistics")
    _sweep(engine)
    db.refresh(case)
    assert case.group_id == groups["售后组"].id and case.assignee_id is None


def test_a_case_no_rule_matches_stays_in_the_shared_queue(engine, db):
    _setup(db)
    case = _case(db, intent="other", category="other")
    report = _sweep(engine)
    db.refresh(case)
    assert report.routed == 0 and case.group_id is None
    assert db.scalar(select(func.count()).select_from(RoutingRule)) == 7


def test_a_case_that_turns_into_a_crisis_after_routing_is_routed_again_to_the_crisis_team(
    engine, db
):
    groups, supervisor, busy, _, after_sale = _setup(db)
    customer = factories.make_customer(db, identities=[("web", "cust-crisis")])
    case = factories.make_ticket(db, customer=customer, channel="web")
    tickets.do_update_ticket(
        db, SYSTEM, case, {"intent": "complaint", "category": "quality", "priority": "P2"}
    )
    db.commit()
    _sweep(engine)
    db.refresh(case)
    assert (case.group_id, case.assignee_id) == (groups["售后组"].id, after_sale.id)
    # The customer writes again, now threatening the press: intake raises a risk on a routed case.
    delivery = inbound.Delivery(
        SYSTEM,
        inbound.InboundMessage(
            "web", "crisis-1", inbound.Sender("cust-crisis"), "再不处理我就找媒体曝光！"
        ),
        "{}",
        utcnow(),
    )
    outcome = inbound.receive_batch(
        db, [delivery], inbound.AttachmentLimits(Path("/nonexistent"), 0)
    )[0]
    db.commit()
    assert not isinstance(outcome, Exception) and outcome.ticket_id == case.id
    db.refresh(case)
    assert case.route_again and case.priority == "P1" and "media" in case.risks
    db.rollback()  # end the read, so the sweep's commit is seen
    _sweep(engine)
    db.refresh(case)
    assert (case.group_id, case.assignee_id, case.route_again) == (
        groups["投诉处理组"].id,
        busy.id,
        False,
    )
    reasons = db.scalars(
        select(AuditEvent.after["reason"].as_string())
        .where(AuditEvent.action == "ticket.route", AuditEvent.ticket_id == case.id)
        .order_by(AuditEvent.id)
    ).all()
    assert (
        reasons[-1]
        == "出现新的风险，重新分派：规则「危机升级」→ 投诉处理组 → 负载最低的郑丽（0/10）"
    )
    assert (
        db.scalar(select(Notification.user_id).where(Notification.kind == "routing.crisis"))
        == supervisor.id
    )


def test_a_new_risk_whose_rules_keep_the_group_changes_nothing(engine, db):
    groups, *_ = _setup(db)
    case = _case(db, priority="P1", risks=["media"], intent="complaint", category="return_refund")
    _sweep(engine)
    db.refresh(case)
    before = (case.group_id, case.assignee_id)
    assert case.group_id == groups["投诉处理组"].id
    db.execute(
        update(Ticket).where(Ticket.id == case.id).values(route_again=True, sla_check_at=utcnow())
    )
    db.commit()
    _sweep(engine)
    db.refresh(case)
    assert (case.group_id, case.assignee_id, case.route_again) == (*before, False)
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "ticket.route")
        )
        == 1
    )


def test_a_case_tagged_with_a_product_line_goes_to_an_agent_with_that_skill(engine, db):
    groups, *_ = _setup(db)
    generalist = factories.make_user(db, groups=[groups["售后组"]], name="王芳")
    expert = factories.make_user(db, groups=[groups["售后组"]], name="刘洋")
    db.execute(
        update(User).where(User.id.in_([generalist.id, expert.id])).values(online=True, capacity=10)
    )
    db.execute(update(User).where(User.id == expert.id).values(skills=["product:家电"]))
    db.execute(update(User).where(User.name == "张伟").values(online=False))
    db.commit()
    case = _case(
        db, intent="complaint", category="quality", priority="P2", tags=["product:家电", "加急"]
    )
    plain = _case(db, intent="complaint", category="quality", priority="P2")
    _sweep(engine)
    db.refresh(case)
    db.refresh(plain)
    assert case.assignee_id == expert.id
    assert plain.assignee_id in (generalist.id, expert.id)
