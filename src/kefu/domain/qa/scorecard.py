"""A scorecard: how much each criterion weighs, which ones fail the whole review (critical),
which ones are only shown (advisory: weighed 0, never critical). Admins edit it as data; each
saved scorecard is a new version and a review names the version it used.

The total is the weighted share of the applicable criteria passed, 0–100 (None when nothing
applied); a failed critical criterion fails the review whatever the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kefu.domain.qa.criteria import Criterion, CriterionResult, Verdict

MAX_WEIGHT = 100


class ScorecardRefused(ValueError):
    """A scorecard that cannot be used; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Weighing:
    weight: int
    critical: bool = False
    advisory: bool = False

    @property
    def counted(self) -> int:
        return 0 if self.advisory else self.weight


@dataclass(frozen=True)
class Scorecard:
    version: int
    weighings: Mapping[Criterion, Weighing]

    def to_json(self) -> dict[str, Any]:
        return {
            c.value: {"weight": w.weight, "critical": w.critical, "advisory": w.advisory}
            for c, w in self.weighings.items()
        }

    @classmethod
    def from_json(cls, data: Any, version: int) -> Scorecard:
        """A scorecard from an admin's form or API body; refused with the field named."""
        if not isinstance(data, Mapping):
            raise ScorecardRefused("criteria", "请为每个质检项设置权重。")
        weighings: dict[Criterion, Weighing] = {}
        for criterion in Criterion:
            item = data.get(criterion.value)
            if not isinstance(item, Mapping):
                raise ScorecardRefused(criterion.value, "缺少这个质检项的设置。")
            weight = item.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, int):
                raise ScorecardRefused(criterion.value, "权重必须是整数。")
            if not 0 <= weight <= MAX_WEIGHT:
                raise ScorecardRefused(criterion.value, f"权重必须在 0 到 {MAX_WEIGHT} 之间。")
            critical, advisory = bool(item.get("critical")), bool(item.get("advisory"))
            if critical and advisory:
                raise ScorecardRefused(criterion.value, "仅供参考的质检项不能设为否决项。")
            weighings[criterion] = Weighing(weight, critical, advisory)
        unknown = set(data) - {c.value for c in Criterion}
        if unknown:
            raise ScorecardRefused(sorted(unknown)[0], "未知的质检项。")
        if not any(w.counted for w in weighings.values()):
            raise ScorecardRefused("criteria", "至少要有一个质检项计分。")
        return cls(version, weighings)


# Advisory: the criteria whose verdicts agreed with the labelled set (benchmarks/qa/labelled.jsonl,
# labelled before the rules were written) less than 0.8 of the time — closing 0.76, empathy 0.77,
# commitments 0.73 (benchmarks/qa_agreement.py, 2026-12-07); the rest 0.90–1.00.
DEFAULT_WEIGHTS: dict[Criterion, Weighing] = {
    Criterion.GREETING: Weighing(5),
    Criterion.CLOSING: Weighing(5, advisory=True),
    Criterion.EMPATHY: Weighing(15, advisory=True),
    Criterion.COURTESY: Weighing(15, critical=True),
    Criterion.JARGON: Weighing(5),
    Criterion.COMMITMENTS: Weighing(10, advisory=True),
    Criterion.PRIVACY: Weighing(10, critical=True),
    Criterion.RESPONSE_TIME: Weighing(10),
    Criterion.EMOTION_TREND: Weighing(10),
    Criterion.LOOP_COMPLETE: Weighing(10),
    Criterion.SURVEY: Weighing(5),
}
DEFAULT = Scorecard(version=0, weighings=DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class Score:
    total: float | None  # 0–100, None when no counted criterion applied
    failed_critical: tuple[Criterion, ...]

    @property
    def failed(self) -> bool:
        return bool(self.failed_critical)


def score(results: Sequence[CriterionResult], scorecard: Scorecard) -> Score:
    earned = possible = 0
    critical: list[Criterion] = []
    for result in results:
        weighing = scorecard.weighings.get(result.criterion)
        if weighing is None or result.verdict == Verdict.NA:
            continue
        possible += weighing.counted
        if result.verdict == Verdict.PASS:
            earned += weighing.counted
        elif weighing.critical and not weighing.advisory:
            critical.append(result.criterion)
    total = round(100.0 * earned / possible, 1) if possible else None
    return Score(total, tuple(critical))
