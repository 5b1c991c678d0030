"""Routing: which group takes a case (ordered rules, first match wins), and which agent in it.

A rule's conditions are sets of accepted values per field; an empty set accepts anything.
Within a field any listed value matches (risks and customer tags match when the case has one
of them); all fields must match. ``first_match`` walks the rules in the admin's order.

``choose_agent`` picks, among the group's members who are online, below their capacity and
have every skill the case needs (its language, its product line), the one with the lowest
load (open cases against capacity), or in round-robin the one who waited longest for a case.
Both come with the Chinese reason agents and supervisors read:
「规则「质量投诉」→ 售后组 → 负载最低的张伟（2/10）」.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class CaseFacts:
    """What routing may look at."""

    channel: str
    priority: str
    intent: str | None = None
    category: str | None = None
    risks: frozenset[str] = frozenset()
    emotion: str | None = None
    customer_tags: frozenset[str] = frozenset()
    language: str = "zh"
    in_business_hours: bool = True


CONDITION_FIELDS = (
    "channels",
    "priorities",
    "intents",
    "categories",
    "risks",
    "emotions",
    "customer_tags",
    "languages",
)


@dataclass(frozen=True)
class Conditions:
    channels: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    intents: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    risks: frozenset[str] = frozenset()  # any of them
    emotions: frozenset[str] = frozenset()
    customer_tags: frozenset[str] = frozenset()  # any of them, e.g. {"VIP"}
    languages: frozenset[str] = frozenset()
    business_hours: bool | None = None  # True: only within the group's hours; False: only outside

    def match(self, case: CaseFacts) -> bool:
        return not self.failures(case)

    def failures(self, case: CaseFacts) -> tuple[str, ...]:
        """The conditions the case does not meet (their field names, in CONDITION_FIELDS order,
        then ``business_hours``): empty when the rule matches. The admin's rule tester shows them."""
        single = {
            "channels": case.channel,
            "priorities": case.priority,
            "intents": case.intent,
            "categories": case.category,
            "emotions": case.emotion,
            "languages": case.language,
        }
        failed = []
        for name in CONDITION_FIELDS:
            accepted: frozenset[str] = getattr(self, name)
            if not accepted:
                continue
            if name in single:
                if single[name] not in accepted:
                    failed.append(name)
            elif not accepted & getattr(case, name):  # risks, customer_tags: any of them
                failed.append(name)
        if self.business_hours is not None and self.business_hours != case.in_business_hours:
            failed.append("business_hours")
        return tuple(failed)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: sorted(getattr(self, name)) for name in CONDITION_FIELDS if getattr(self, name)
        }
        if self.business_hours is not None:
            out["business_hours"] = self.business_hours
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditions:
        unknown = set(data) - {*CONDITION_FIELDS, "business_hours"}
        if unknown:
            raise ValueError(f"unknown condition(s): {', '.join(sorted(unknown))}")
        sets = {}
        for name in CONDITION_FIELDS:
            values = data.get(name, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name} must be a list of strings")
            sets[name] = frozenset(values)
        hours = data.get("business_hours")
        if hours is not None and not isinstance(hours, bool):
            raise ValueError("business_hours must be true, false or absent")
        return cls(**sets, business_hours=hours)


@dataclass(frozen=True)
class Rule:
    name: str
    group: str  # the group's name
    conditions: Conditions = field(default_factory=Conditions)
    notify_supervisor: bool = False


def first_match(rules: Iterable[Rule], case: CaseFacts) -> Rule | None:
    return next((rule for rule in rules if rule.conditions.match(case)), None)


def _set(*values: str) -> frozenset[str]:
    return frozenset(values)


# The defaults of the reference documents, in order. Privacy and safety are crises (P1) too,
# so their own groups come before the general crisis rule.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("隐私合规", "合规组", Conditions(risks=_set("privacy")), notify_supervisor=True),
    Rule("产品安全", "产品安全组", Conditions(risks=_set("safety")), notify_supervisor=True),
    Rule("危机升级", "投诉处理组", Conditions(priorities=_set("P1")), notify_supervisor=True),
    Rule("质量投诉", "售后组", Conditions(intents=_set("complaint"), categories=_set("quality"))),
    Rule("技术故障", "技术支持组", Conditions(categories=_set("account_privacy"))),
    Rule("售前咨询", "售前组", Conditions(categories=_set("product_info"))),
    Rule(
        "售后服务",
        "售后组",
        Conditions(
            categories=_set(
                "logistics", "quality", "return_refund", "price_billing", "order_payment", "service"
            )
        ),
    ),
)


# Assignment --------------------------------------------------------------------------------

NEVER = datetime.min.replace(tzinfo=UTC)  # last assignment of an agent who has had none


class AssignMode(StrEnum):
    LEAST_LOADED = "least_loaded"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class AgentState:
    user_id: int
    name: str
    online: bool
    open_cases: int
    capacity: int
    skills: frozenset[str] = frozenset()  # "lang:en", "product:家电", …
    last_assigned_at: datetime | None = None

    @property
    def has_room(self) -> bool:
        return self.open_cases < self.capacity


@dataclass(frozen=True)
class Choice:
    agent: AgentState
    reason: str


def eligible(agents: Iterable[AgentState], needs: frozenset[str] = frozenset()) -> list[AgentState]:
    """Agents who are online, below capacity and have every skill needed."""
    return [a for a in agents if a.online and a.has_room and needs <= a.skills]


def choose_agent(
    agents: Sequence[AgentState],
    needs: frozenset[str] = frozenset(),
    mode: AssignMode = AssignMode.LEAST_LOADED,
) -> Choice | None:
    """The agent to take the case, or None when nobody may (it waits in the group's queue)."""
    candidates = eligible(agents, needs)
    if not candidates:
        return None
    waited = [a.last_assigned_at or NEVER for a in candidates]
    if mode == AssignMode.ROUND_ROBIN:
        best = min(range(len(candidates)), key=lambda i: (waited[i], candidates[i].user_id))
        agent = candidates[best]
        return Choice(agent, f"轮流分配给{agent.name}（{agent.open_cases}/{agent.capacity}）")
    best = min(
        range(len(candidates)),
        key=lambda i: (
            candidates[i].open_cases / candidates[i].capacity,
            candidates[i].open_cases,
            waited[i],
            candidates[i].user_id,
        ),
    )
    agent = candidates[best]
    return Choice(agent, f"负载最低的{agent.name}（{agent.open_cases}/{agent.capacity}）")


def explain(rule: Rule | None, choice: Choice | None) -> str:
    """The assignment's reason: 规则「质量投诉」→ 售后组 → 负载最低的张伟（2/10）."""
    if rule is None:
        return "无匹配规则 → 公共待分配队列"
    head = f"规则「{rule.name}」→ {rule.group}"
    return (
        f"{head} → {choice.reason}" if choice else f"{head} → 暂无在线且有余量的客服，进入组内队列"
    )
