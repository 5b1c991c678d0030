"""Routing rules (every default), conditions, and assignment inside a group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.routing import (
    DEFAULT_RULES,
    AgentState,
    AssignMode,
    CaseFacts,
    Conditions,
    Rule,
    choose_agent,
    explain,
    first_match,
)


def route(**facts) -> Rule | None:
    return first_match(
        DEFAULT_RULES, CaseFacts(**{"channel": "webchat", "priority": "P4", **facts})
    )


@pytest.mark.parametrize(
    ("facts", "rule", "group"),
    [
        (
            {"priority": "P1", "risks": frozenset({"privacy"}), "category": "account_privacy"},
            "隐私合规",
            "合规组",
        ),
        (
            {"priority": "P1", "risks": frozenset({"safety"}), "category": "quality"},
            "产品安全",
            "产品安全组",
        ),
        (
            {
                "priority": "P1",
                "risks": frozenset({"media", "regulator"}),
                "category": "return_refund",
            },
            "危机升级",
            "投诉处理组",
        ),
        (
            {"priority": "P1", "risks": frozenset({"legal"}), "category": "product_info"},
            "危机升级",
            "投诉处理组",
        ),
        ({"priority": "P2", "intent": "complaint", "category": "quality"}, "质量投诉", "售后组"),
        (
            {"priority": "P3", "intent": "complaint", "category": "account_privacy"},
            "技术故障",
            "技术支持组",
        ),
        ({"intent": "inquiry", "category": "product_info"}, "售前咨询", "售前组"),
        ({"intent": "inquiry", "category": "logistics"}, "售后服务", "售后组"),
        ({"priority": "P3", "intent": "complaint", "category": "service"}, "售后服务", "售后组"),
    ],
)
def test_every_default_rule(facts, rule, group):
    matched = route(**facts)
    assert matched is not None and (matched.name, matched.group) == (rule, group)


def test_crises_notify_the_supervisor_and_everyday_cases_do_not():
    assert all(r.notify_supervisor for r in DEFAULT_RULES[:3])
    assert not any(r.notify_supervisor for r in DEFAULT_RULES[3:])


def test_nothing_matches_a_case_without_a_topic():
    assert route(intent="other", category="other") is None
    assert explain(None, None) == "无匹配规则 → 公共待分配队列"


def test_conditions_on_every_field_and_the_admins_order():
    vip_night = Rule(
        "VIP 夜间",
        "投诉处理组",
        Conditions(
            customer_tags=frozenset({"VIP"}),
            business_hours=False,
            channels=frozenset({"wechat"}),
            languages=frozenset({"zh"}),
        ),
    )
    angry = Rule("愤怒客户", "投诉处理组", Conditions(emotions=frozenset({"angry"})))
    rules = [vip_night, angry, *DEFAULT_RULES]
    base = {"channel": "wechat", "priority": "P4", "category": "logistics"}
    assert (
        first_match(
            rules,
            CaseFacts(**base, customer_tags=frozenset({"VIP", "老客户"}), in_business_hours=False),
        )
        == vip_night
    )
    assert (
        first_match(rules, CaseFacts(**base, customer_tags=frozenset({"VIP"}))).name == "售后服务"
    )  # in hours
    assert first_match(rules, CaseFacts(**base, emotion="angry")) == angry
    assert (
        first_match(
            rules,
            CaseFacts(
                **{**base, "channel": "email"},
                customer_tags=frozenset({"VIP"}),
                in_business_hours=False,
            ),
        ).name
        == "售后服务"
    )
    assert (
        first_match(
            [angry, vip_night],
            CaseFacts(
                **base, emotion="angry", customer_tags=frozenset({"VIP"}), in_business_hours=False
            ),
        )
        == angry
    )


def test_conditions_round_trip_and_refuse_what_they_do_not_know():
    conditions = Conditions(
        risks=frozenset({"media"}), priorities=frozenset({"P1", "P2"}), business_hours=True
    )
    assert Conditions.from_json(conditions.to_json()) == conditions
    assert conditions.to_json() == {
        "priorities": ["P1", "P2"],
        "risks": ["media"],
        "business_hours": True,
    }
    with pytest.raises(ValueError, match="unknown condition"):
        Conditions.from_json({"colour": ["red"]})
    with pytest.raises(ValueError, match="list of strings"):
        Conditions.from_json({"channels": "email"})
    with pytest.raises(ValueError, match="business_hours"):
        Conditions.from_json({"business_hours": "yes"})


T = datetime(2026, 9, 29, 2, tzinfo=UTC)


def agent(user_id, name, open_cases, capacity=10, online=True, skills=(), last=None):
    return AgentState(user_id, name, online, open_cases, capacity, frozenset(skills), last)


def test_least_loaded_online_agent_with_room_and_skills():
    team = [
        agent(1, "张伟", 2),
        agent(2, "刘洋", 1, online=False),
        agent(3, "赵婷", 5, capacity=5),
        agent(4, "王磊", 3, capacity=20),
        agent(5, "李娜", 0, skills=("lang:en",)),
    ]
    choice = choose_agent(team)
    assert choice.agent.name == "李娜" and choice.reason == "负载最低的李娜（0/10）"
    assert choose_agent(team[:4]).agent.name == "王磊"  # 3/20 is lighter than 2/10
    assert choose_agent(team, frozenset({"lang:en"})).agent.name == "李娜"
    assert choose_agent(team, frozenset({"lang:ja"})) is None
    rule = DEFAULT_RULES[3]
    assert (
        explain(rule, choose_agent(team[:2])) == "规则「质量投诉」→ 售后组 → 负载最低的张伟（2/10）"
    )
    assert explain(rule, None).endswith("进入组内队列")


def test_round_robin_takes_whoever_waited_longest():
    team = [
        agent(1, "张伟", 3, last=T),
        agent(2, "刘洋", 0, last=T + timedelta(minutes=5)),
        agent(3, "赵婷", 9),
    ]
    assert choose_agent(team, mode=AssignMode.ROUND_ROBIN).agent.name == "赵婷"  # never assigned
    assert choose_agent(team[:2], mode=AssignMode.ROUND_ROBIN).agent.name == "张伟"


agents = st.lists(
    st.builds(
        AgentState,
        user_id=st.integers(1, 50),
        name=st.just("x"),
        online=st.booleans(),
        open_cases=st.integers(0, 12),
        capacity=st.integers(0, 10),
        skills=st.frozensets(st.sampled_from(["lang:en", "lang:zh", "product:tv"])),
        last_assigned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    agents,
    st.frozensets(st.sampled_from(["lang:en", "product:tv"]), max_size=1),
    st.sampled_from(list(AssignMode)),
)
def test_assignment_never_picks_an_offline_agent_or_one_at_capacity(team, needs, mode):
    choice = choose_agent(team, needs, mode)
    possible = [a for a in team if a.online and a.open_cases < a.capacity and needs <= a.skills]
    if choice is None:
        assert not possible
    else:
        assert (
            choice.agent.online
            and choice.agent.open_cases < choice.agent.capacity
            and needs <= choice.agent.skills
        )
        if mode == AssignMode.LEAST_LOADED:
            assert all(
                choice.agent.open_cases / choice.agent.capacity <= a.open_cases / a.capacity
                for a in possible
            )


def test_failures_name_every_condition_a_case_does_not_meet():
    conditions = Conditions(
        channels=frozenset({"wechat"}),
        priorities=frozenset({"P1", "P2"}),
        risks=frozenset({"media"}),
        customer_tags=frozenset({"VIP"}),
        business_hours=True,
    )
    case = CaseFacts(
        channel="email",
        priority="P2",
        risks=frozenset({"legal"}),
        customer_tags=frozenset({"老客户"}),
        in_business_hours=False,
    )
    assert conditions.failures(case) == ("channels", "risks", "customer_tags", "business_hours")
    assert not conditions.match(case)
    met = CaseFacts(
        channel="wechat",
        priority="P1",
        risks=frozenset({"media", "legal"}),
        customer_tags=frozenset({"VIP", "老客户"}),
    )
    assert conditions.failures(met) == () and conditions.match(met)
    assert Conditions().failures(case) == ()  # no condition: anything goes


def _values(*names):
    return st.frozensets(st.sampled_from(names), max_size=2)


conditions_strategy = st.builds(
    Conditions,
    channels=_values("webchat", "email"),
    priorities=_values("P1", "P2", "P3"),
    intents=_values("complaint", "inquiry"),
    risks=_values("media", "privacy"),
    customer_tags=_values("VIP", "老客户"),
    languages=_values("zh", "en"),
    business_hours=st.none() | st.booleans(),
)
cases_strategy = st.builds(
    CaseFacts,
    channel=st.sampled_from(["webchat", "email"]),
    priority=st.sampled_from(["P1", "P2", "P3", "P4"]),
    intent=st.none() | st.sampled_from(["complaint", "inquiry", "other"]),
    risks=_values("media", "privacy", "legal"),
    customer_tags=_values("VIP", "老客户"),
    language=st.sampled_from(["zh", "en"]),
    in_business_hours=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(conditions_strategy, cases_strategy)
def test_a_case_matches_exactly_when_no_condition_fails(conditions, case):
    failures = conditions.failures(case)
    assert conditions.match(case) == (failures == ())
    for name in failures:  # each one named would refuse the case on its own
        alone = Conditions.from_json({name: conditions.to_json()[name]})
        assert not alone.match(case)
