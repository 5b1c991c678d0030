"""The criteria of a quality review (docs/qa.md) and what a review says of each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Criterion(StrEnum):
    GREETING = "greeting"
    CLOSING = "closing"
    EMPATHY = "empathy"
    COURTESY = "courtesy"
    JARGON = "jargon"
    COMMITMENTS = "commitments"
    PRIVACY = "privacy"
    RESPONSE_TIME = "response_time"
    EMOTION_TREND = "emotion_trend"
    LOOP_COMPLETE = "loop_complete"
    SURVEY = "survey"


NAMES: dict[Criterion, str] = {
    Criterion.GREETING: "开场问候",
    Criterion.CLOSING: "结束确认",
    Criterion.EMPATHY: "共情",
    Criterion.COURTESY: "礼貌与担当",
    Criterion.JARGON: "通俗表达",
    Criterion.COMMITMENTS: "承诺得当",
    Criterion.PRIVACY: "隐私保护",
    Criterion.RESPONSE_TIME: "响应时效",
    Criterion.EMOTION_TREND: "情绪改善",
    Criterion.LOOP_COMPLETE: "闭环完整",
    Criterion.SURVEY: "客户评价",
}


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NA = "na"  # the criterion does not apply to this conversation


@dataclass(frozen=True)
class Evidence:
    """Where the review saw it: a turn of the conversation and characters of its text."""

    turn: int
    start: int
    end: int
    text: str
    message_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"turn": self.turn, "start": self.start, "end": self.end, "text": self.text,
                "message_id": self.message_id}  # fmt: skip


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    verdict: Verdict
    explanation: str  # Chinese, for the agent and the reviewer
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion.value,
            "verdict": self.verdict.value,
            "explanation": self.explanation,
            "evidence": [e.to_json() for e in self.evidence],
        }
