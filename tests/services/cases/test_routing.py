"""Routing by the sweep: the admin's rules in the database, assignment to online agents with room."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Customer, Notification, RoutingRule, Ticket, User
from kefu.domain.roles import Role
from kefu.errors import PermissionDenied
from kefu.nlp.analysis import analyzer
from kefu.services.actors import SYSTEM, Actor
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


def _trial(db, text, **overrides):
    return routing.try_routing(
        db,
        SYSTEM,
        text=text,
        channel=overrides.pop("channel", "api"),
        customer_tags=overrides.pop("customer_tags", ()),
        customer_language=overrides.pop("customer_language", "zh-CN"),
        at=overrides.pop("at", utcnow()),
        analyzer=analyzer(),
        calendar=sla.default_calendar(),
    )


def _counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Ticket, Customer, AuditEvent)
    )


def test_the_tester_says_what_routing_then_does_with_the_same_message(engine, db):
    """A message tried in the tester and then delivered through intake: the same triage, the same
    rule and the same reason in the ticket's trail; the trial itself wrote nothing."""
    _setup(db)
    text = "你们卖的冰箱质量太差了，用了一周就坏了，我要投诉！"
    before = _counts(db)
    trial = _trial(db, text)
    db.rollback()
    assert _counts(db) == before  # no ticket, customer or audit row
    assert trial.matched is not None
    integration = factories.make_callback_integration(db, "https://example.cn/cb")
    ticket = factories.make_api_conversation(db, integration, text=text)
    assert (ticket.priority, ticket.intent, ticket.category, tuple(ticket.risks)) == (
        trial.triage.priority,
        trial.triage.intent,
        trial.triage.category,
        trial.triage.risks,
    )
    db.rollback()
    _sweep(engine)
    reason = db.scalar(
        select(AuditEvent.after["reason"].as_string()).where(
            AuditEvent.action == "ticket.route", AuditEvent.ticket_id == ticket.id
        )
    )
    assert reason == trial.reason
    db.refresh(ticket)
    assert ticket.group_id == trial.matched.group_id


def test_the_tester_explains_each_rule_it_passes_over(db):
    groups, *_ = _setup(db)
    vip = routing.do_create_rule(
        db,
        SYSTEM,
        name="VIP 夜间",
        group_id=groups["投诉处理组"].id,
        conditions={"customer_tags": ["VIP"], "business_hours": False},
        position=1,
    )
    off = routing.do_create_rule(
        db, SYSTEM, name="停用的", group_id=groups["售前组"].id, enabled=False, position=2
    )
    db.commit()
    monday_night = datetime(2026, 6, 1, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    text = "我的快递一直没到，麻烦帮我查一下物流"
    hit = _trial(db, text, customer_tags=["VIP"], at=monday_night)
    assert hit.matched is not None and hit.matched.id == vip.id
    assert hit.reason.startswith("规则「VIP 夜间」→ 投诉处理组 → ")
    by_id = {t.rule.id: t for t in hit.rules}
    assert by_id[vip.id].failures == () and not by_id[off.id].takes_part
    in_hours = _trial(db, text, customer_tags=["VIP"], at=monday_night.replace(hour=10))
    assert {t.rule.id: t for t in in_hours.rules}[vip.id].failures == ("business_hours",)
    assert in_hours.matched is not None and in_hours.matched.name == "售后服务"
    plain = _trial(db, text, at=monday_night)
    assert {t.rule.id: t for t in plain.rules}[vip.id].failures == ("customer_tags",)
    assert not plain.facts.customer_tags and plain.facts.language == "zh"


def test_only_an_admin_may_try_routing(db):
    supervisor = Actor(user_id=1, role=Role.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        routing.try_routing(
            db,
            supervisor,
            text="你好",
            channel="api",
            customer_tags=(),
            customer_language="zh-CN",
            at=utcnow(),
            analyzer=analyzer(),
            calendar=sla.default_calendar(),
        )
