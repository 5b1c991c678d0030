"""The demo content and ticket plan, checked without a database."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from kefu.demo.content import Labels, Scenario, load_content, render
from kefu.demo.people import build_customers
from kefu.demo.plan import FAR_FUTURE, TicketPlan, plan_tickets, ticket_slots
from kefu.demo.team import DEMO_GROUPS, DEMO_USERS, handlers_of, member

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PLACEHOLDER = re.compile(r"[{}【】\[\]]|(?<![A-Za-z])XX(?![A-Za-z])")
CONTENT = load_content()


def _plans(seed: int = 7) -> list[TicketPlan]:
    rng = random.Random(seed)
    customers = build_customers(rng, CONTENT)
    return plan_tickets(rng, NOW, CONTENT, customers)


PLANS = _plans()


def expected_priority(labels: Labels, flags: frozenset[str]) -> str:
    """docs/triage.md's priority rule, with the facts the text carries as scenario flags."""
    if labels.risks:
        return "P1"
    complaint = labels.intent == "complaint"
    money_lost = labels.category in ("return_refund", "price_billing") and "lost_money" in flags
    angry_again = labels.emotion == "angry" and "repeat" in flags
    if complaint and (labels.category == "quality" or money_lost or angry_again):
        return "P2"
    if complaint or (labels.emotion == "anxious" and "deadline" in flags):
        return "P3"
    return "P4"


@pytest.mark.parametrize("scenario", CONTENT.scenarios, ids=lambda s: s.id)
def test_scenario_priority_follows_the_triage_rules(scenario: Scenario) -> None:
    assert scenario.labels.priority == expected_priority(scenario.labels, scenario.flags)


def test_sentiment_agrees_with_emotion() -> None:
    for s in CONTENT.scenarios:
        if s.labels.emotion in ("angry", "anxious", "disappointed"):
            assert s.labels.sentiment == "negative", s.id
        if s.labels.emotion == "satisfied":
            assert s.labels.sentiment == "positive", s.id


def test_there_are_enough_scenarios_of_every_kind() -> None:
    scenarios = CONTENT.scenarios
    assert len(scenarios) >= 60
    assert {s.labels.intent for s in scenarios} == {
        "inquiry",
        "complaint",
        "suggestion",
        "praise",
        "other",
    }
    assert {r for s in scenarios for r in s.labels.risks} == {
        "media", "regulator", "legal", "safety", "privacy", "discrimination",
    }  # fmt: skip
    assert any(s.script == "hant" for s in scenarios)
    groups = {name for name, _ in DEMO_GROUPS}
    assert {s.group for s in scenarios if s.group} <= groups


def test_every_template_renders_with_the_slots_of_a_ticket() -> None:
    rng = random.Random(1)
    customer = build_customers(rng, CONTENT)[0]
    handler = member(DEMO_USERS[2][0])
    for scenario in CONTENT.scenarios:
        slots = ticket_slots(rng, scenario, customer, handler, CONTENT.catalog, NOW)
        for turn in scenario.turns:
            for variant in turn.variants:
                assert "{" not in render(variant, slots), scenario.id


def test_every_group_has_someone_to_take_its_cases() -> None:
    for name, _ in DEMO_GROUPS:
        assert handlers_of(name, None), name
    assert handlers_of("投诉处理组", "supervisor")[0].role == "supervisor"


def test_the_plan_is_deterministic() -> None:
    again = _plans()
    assert [(p.scenario.id, p.customer.key, p.channel, p.status) for p in again] == [
        (p.scenario.id, p.customer.key, p.channel, p.status) for p in PLANS
    ]
    assert [s.text for p in again for s in p.steps] == [s.text for p in PLANS for s in p.steps]


def test_every_scenario_appears_in_the_plan() -> None:
    assert {p.scenario.id for p in PLANS} == {s.id for s in CONTENT.scenarios}


def test_plan_size_and_status_mix() -> None:
    assert 300 <= len(PLANS) <= 400
    statuses = [p.status for p in PLANS]
    for status in ("new", "open", "pending", "resolved", "closed"):
        assert statuses.count(status) >= 5, status
    assert all(
        1 <= sum(s.kind in ("inbound", "reply", "note") for s in p.steps) <= 6 for p in PLANS
    )


def test_every_step_is_in_the_past_and_in_order() -> None:
    for plan in PLANS:
        times = [s.at for s in plan.steps]
        assert times == sorted(times)
        assert times[-1] < NOW
        assert times[0] > NOW - timedelta(days=61)
        assert plan.steps[0].kind == "inbound"


def test_a_customer_never_has_two_open_tickets_on_one_channel() -> None:
    """Otherwise inbound threading would append the second case to the first."""
    busy: dict[tuple[str, str], datetime] = {}
    for plan in sorted(PLANS, key=lambda p: p.start):
        key = (plan.customer.key, plan.channel)
        assert busy.get(key, plan.start) <= plan.start
        busy[key] = plan.busy_until
    assert any(until == FAR_FUTURE for until in busy.values())


def test_every_visitor_writes_and_customers_use_several_channels() -> None:
    customers = {p.customer.key: p.customer for p in PLANS}
    visitors = [c for c in build_customers(random.Random(7), CONTENT) if not c.preexisting]
    assert {v.key for v in visitors} <= set(customers)
    multi = {p.customer.key for p in PLANS if len(p.customer.channels) >= 2}
    assert len(multi) >= 20


def test_work_follows_the_state_of_the_ticket() -> None:
    for plan in PLANS:
        kinds = [s.kind for s in plan.steps]
        if plan.status == "new":
            assert "reply" not in kinds and "status" not in kinds
        else:
            assert plan.assignee is not None and plan.group is not None
            assert kinds.index("claim" if "claim" in kinds else "assign") < kinds.index("reply")
        if plan.assignee:
            assert _works_in_group(plan.assignee, plan.group)


def _works_in_group(email: str, group: str | None) -> bool:
    """Cases go to members of their group; the supervisor may take any crisis."""
    groups = {e: g for e, _, _, g in DEMO_USERS}
    return group in groups[email] or member(email).role == "supervisor"


def test_agent_replies_follow_the_service_norms() -> None:
    """First replies greet; no reply leaves a placeholder or shows a full phone number."""
    for plan in PLANS:
        replies = [s.text for s in plan.steps if s.kind == "reply"]
        if replies:
            assert "您好" in re.split("[。！？]", replies[0])[0], replies[0]
        for text in replies:
            assert not PLACEHOLDER.search(text), text
            assert not FULL_PHONE.search(text), text


def test_crises_are_a_handful_and_reach_the_right_people() -> None:
    crises = [p for p in PLANS if p.scenario.labels.risks]
    assert 5 <= len(crises) <= 40
    for plan in crises:
        if "safety" in plan.scenario.labels.risks:
            assert plan.group == "产品安全组"
        if plan.status != "new":
            assert member(plan.assignee or "").role in ("specialist", "supervisor")
