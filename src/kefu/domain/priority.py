"""Priority grading (投诉分级): one documented rule function, never learned (docs/triage.md).

| priority | rule |
|---|---|
| P1 紧急危机 | any crisis risk |
| P2 高度紧急 | a complaint about quality; a return/refund or price/billing complaint where the customer has already lost money; an angry complaint from a customer who has contacted us before |
| P3 重要非紧急 | any other complaint; an anxious inquiry with an explicit deadline |
| P4 一般问题 | everything else |

The three cues (money lost, repeat contact, deadline) are read from the text by the
analysis engine, or from the conversation history by the caller; this function only
combines them. Each grade comes with the rule that decided it and a short Chinese reason,
which agents see as "为什么是P1".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kefu.domain.tickets import Priority
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk

RISK_NAMES_ZH = {
    Risk.MEDIA: "媒体曝光",
    Risk.REGULATOR: "向监管部门投诉",
    Risk.LEGAL: "法律行动",
    Risk.SAFETY: "人身安全",
    Risk.PRIVACY: "隐私泄露",
    Risk.DISCRIMINATION: "歧视",
}
_RISK_ORDER = {r: i for i, r in enumerate(Risk)}
MONEY_CATEGORIES = frozenset({Category.RETURN_REFUND, Category.PRICE_BILLING})


@dataclass(frozen=True)
class Cues:
    """What the text (or the history) says beyond the labels."""

    money_lost: bool = False  # refund not received, double charge, overcharge already paid
    repeat_contact: bool = False  # 第三次, 催了好几次, 一直没人处理 — or earlier contacts on record
    deadline: bool = False  # 明天要用, 今天必须, 周五前要交


@dataclass(frozen=True)
class Grade:
    priority: Priority
    rule: str  # a stable name of the rule row, e.g. "p2_quality_complaint"
    reason: str  # Chinese, for agents


def grade(
    *,
    intent: Intent,
    category: Category,
    emotion: Emotion,
    risks: Iterable[Risk],
    cues: Cues = Cues(),
) -> Grade:
    """The priority of one message, with the rule that decided it."""
    found = sorted(set(risks), key=_RISK_ORDER.__getitem__)
    if found:
        names = "、".join(RISK_NAMES_ZH[r] for r in found)
        return Grade(Priority.P1, "p1_risk", f"危机信号：{names}")
    if intent == Intent.COMPLAINT:
        if category == Category.QUALITY:
            return Grade(Priority.P2, "p2_quality_complaint", "商品质量投诉")
        if category in MONEY_CATEGORIES and cues.money_lost:
            return Grade(Priority.P2, "p2_money_lost", "客户已有资金损失")
        if emotion == Emotion.ANGRY and cues.repeat_contact:
            return Grade(Priority.P2, "p2_angry_repeat", "客户愤怒且已多次联系")
        return Grade(Priority.P3, "p3_complaint", "一般投诉")
    if intent == Intent.INQUIRY and emotion == Emotion.ANXIOUS and cues.deadline:
        return Grade(Priority.P3, "p3_urgent_inquiry", "焦虑的咨询且有明确时限")
    return Grade(Priority.P4, "p4_routine", "一般问题")


def is_lower(new: Priority, current: Priority) -> bool:
    """True if ``new`` is less urgent than ``current`` (P4 is the lowest)."""
    return int(new.value[1]) > int(current.value[1])
