"""What intake would have read out of each synthetic customer message, without running the models.

A message's ``analysis`` column has the shape of ``kefu.nlp.analysis.Analysis.to_json`` (labels,
scores, cues, the priority rule, explanations with the words that raised them, confidences),
written from the scenario's labels instead of the models, so a million messages cost seconds.
The engine is named ``kefu-demo-synthetic`` so nobody mistakes these for the models' output.
The priority comes from the real rule (``domain/priority.grade``); the ticket's triage is then
merged from the messages by the same planner intake uses (``domain/case_planner``).

The first message carries the case's labels and crisis signals; later ones the customer's
changing mood; the last one of a solved case is often thanks.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from kefu.demo.content import Labels
from kefu.domain.priority import RISK_NAMES_ZH, Cues, Grade, grade
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import Priority
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk
from kefu.services.intake.message_triage import quoted

ENGINE = "kefu-demo-synthetic"
CLAUSE = re.compile(r"[^，。！？!?,.；;\n]+")
# What a rule found, per risk (the rules engine's own wording is longer; this is its gist).
RISK_FINDINGS = {
    "media": "威胁联系媒体或在网上曝光",
    "regulator": "提到向监管部门或消协投诉",
    "legal": "提到律师或起诉",
    "safety": "有人受伤或存在安全隐患",
    "privacy": "个人信息可能泄露",
    "discrimination": "感到被歧视或区别对待",
}
# A scenario whose labels the rule would grade otherwise keeps its own priority, with this rule.
RULE_OF = {"P1": "p1_risk", "P2": "p2_quality_complaint", "P3": "p3_complaint", "P4": "p4_routine"}
REASON_OF = {"P1": "危机信号", "P2": "高度紧急", "P3": "一般投诉", "P4": "一般问题"}
SENTIMENT_OF = {
    "angry": "negative",
    "anxious": "negative",
    "disappointed": "negative",
    "satisfied": "positive",
    "neutral": "neutral",
}


@dataclass(frozen=True)
class MessageReading:
    """One message's analysis: the JSON to store, and what it tells the ticket."""

    analysis: dict[str, object]
    triage: TicketTriage
    explanations: dict[str, str]  # risks.<name> -> reason with the words, for the planner


def read_message(
    rng: random.Random,
    labels: Labels,
    flags: frozenset[str],
    text: str,
    *,
    first: bool,
    thanks: bool,
    traditional: bool,
) -> MessageReading:
    """The analysis of one customer message of a case with these labels."""
    intent, emotion, risks = labels.intent, labels.emotion, labels.risks
    cues = Cues(
        money_lost="lost_money" in flags,
        repeat_contact="repeat" in flags,
        deadline="deadline" in flags,
    )
    if not first:
        risks = risks if rng.random() < 0.3 else ()  # a threat is usually made once
        cues = Cues(repeat_contact=cues.repeat_contact and rng.random() < 0.5)
        if thanks:
            intent = "praise" if rng.random() < 0.2 else "other"
            emotion = "satisfied" if rng.random() < 0.6 else "neutral"
        elif rng.random() < 0.35:
            emotion = "neutral"
            if intent != "complaint":
                intent = "other" if rng.random() < 0.5 else intent
    graded = _grade(labels, intent, emotion, risks, cues, first=first)
    span, start = _span(text)
    explanations = [
        {"field": f"risks.{r}", "reason": f"{RISK_NAMES_ZH[Risk(r)]}：{RISK_FINDINGS[r]}",
         "span": span, "start": start, "end": start + len(span), "source": "rules"}
        for r in risks
    ]  # fmt: skip
    priority_span = span if graded.priority != Priority.P4 else ""
    reason = f"{graded.priority.value}：{graded.reason}"
    explanations.append({"field": "priority", "reason": reason, "span": priority_span,
                         "start": start if priority_span else -1,
                         "end": start + len(span) if priority_span else -1})  # fmt: skip
    sentiment = SENTIMENT_OF[emotion]
    analysis: dict[str, object] = {
        "sentiment": sentiment,
        "sentiment_score": _score(rng, sentiment),
        "emotion": emotion,
        "intent": intent,
        "category": labels.category,
        "risks": list(risks),
        "priority": graded.priority.value,
        "priority_rule": graded.rule,
        "cues": {
            "money_lost": cues.money_lost,
            "repeat_contact": cues.repeat_contact,
            "deadline": cues.deadline,
        },
        "explanations": explanations,
        "confidence": {
            "sentiment": round(rng.uniform(0.75, 0.995), 4),
            "emotion": round(rng.uniform(0.45, 0.98), 4),
            "intent": round(rng.uniform(0.6, 0.99), 4),
            "category": round(rng.uniform(0.35, 0.95), 4),
        },
        "truncated": False,
        "traditional": traditional,
        "engine": ENGINE,
    }
    triage = TicketTriage(
        priority=graded.priority.value,
        risks=tuple(risks),
        intent=intent,
        category=labels.category,
        emotion=emotion,
        sentiment=sentiment,
        priority_reason=quoted(reason, priority_span)[:300],
    )
    risk_reasons = {
        str(e["field"]): quoted(str(e["reason"]), span)
        for e in explanations
        if e["field"] != "priority"
    }
    return MessageReading(analysis, triage, risk_reasons)


@lru_cache(maxsize=4096)
def _grade(
    labels: Labels,
    intent: str,
    emotion: str,
    risks: tuple[str, ...],
    cues: Cues,
    *,
    first: bool,
) -> Grade:
    graded = grade(
        intent=Intent(intent),
        category=Category(labels.category),
        emotion=Emotion(emotion),
        risks=[Risk(r) for r in risks],
        cues=cues,
    )
    if first and graded.priority.value != labels.priority:
        p = labels.priority
        return Grade(Priority(p), RULE_OF[p], REASON_OF[p])
    return graded


def _span(text: str) -> tuple[str, int]:
    """The words an explanation quotes (the longest of the first clauses, not a greeting) and
    where they start."""
    clauses = [m.group().strip() for m in itertools.islice(CLAUSE.finditer(text), 4)]
    if not clauses:
        return "", -1
    clause = max(clauses, key=len)[:40]
    return clause, text.find(clause)


def _score(rng: random.Random, sentiment: str) -> float:
    if sentiment == "negative":
        return round(-rng.uniform(0.45, 0.99), 4)
    if sentiment == "positive":
        return round(rng.uniform(0.45, 0.99), 4)
    return round(rng.uniform(-0.3, 0.3), 4)
