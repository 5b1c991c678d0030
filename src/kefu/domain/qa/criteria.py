"""The criteria of a quality review (docs/qa.md) and what a review says of each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kefu.domain.case_loop import STAGE_NAMES_ZH, Stage


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


Param = str | int | tuple[str, ...]  # a tuple holds complaint-loop stage codes


@dataclass(frozen=True)
class CriterionResult:
    """A criterion's verdict and why: ``template`` is a Chinese sentence of the catalogue (marked
    with ``N_``) with ``{name}`` places filled from ``params``, so a page can show it in the
    reader's language; ``explanation`` is the sentence in Chinese."""

    criterion: Criterion
    verdict: Verdict
    template: str
    evidence: tuple[Evidence, ...] = ()
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def explanation(self) -> str:
        return explain(self.template, self.params, stage_name=lambda s: STAGE_NAMES_ZH[Stage(s)])

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion.value,
            "verdict": self.verdict.value,
            "explanation": self.explanation,
            "template": self.template,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
            "evidence": [e.to_json() for e in self.evidence],
        }


def explain(
    template: str,
    params: Mapping[str, Any],
    *,
    stage_name: Any,
    separator: str = "、",
) -> str:
    """``template`` with its places filled: a list of stage codes as their names, joined."""
    filled = {
        k: separator.join(stage_name(s) for s in v) if isinstance(v, list | tuple) else v
        for k, v in params.items()
    }
    try:
        return template.format(**filled)
    except (KeyError, IndexError, ValueError):  # a translation that lost a place: as written
        return template
