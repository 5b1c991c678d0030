"""Targets a service manager is judged by, and whether a figure meets its target.

The four of reference 001 (客户服务绩效考核指标): 首次解决率 ≥ 85 %, 客户满意度 ≥ 90 %,
平均响应时间 ≤ 30 分钟, 问题解决率 ≥ 95 %. The others are kefu's defaults, each with the
direction in which it gets better; an admin's targets replace them (``with_overrides``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kefu.domain.kpi.metrics import Figure, Metric


class Direction(StrEnum):
    HIGHER = "higher"  # the figure meets its target at or above the threshold
    LOWER = "lower"  # at or below


class Verdict(StrEnum):
    ON_TARGET = "on_target"
    OFF_TARGET = "off_target"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Target:
    threshold: float  # in the figure's unit: percent, seconds, score, NPS points
    direction: Direction


_H, _L = Direction.HIGHER, Direction.LOWER

DEFAULT_TARGETS: Mapping[Metric, Target] = {
    # reference 000: the first answer within 2 minutes
    Metric.FIRST_RESPONSE_MEDIAN: Target(120, _L),
    Metric.FIRST_RESPONSE_MEAN: Target(120, _L),
    Metric.AVERAGE_RESPONSE: Target(30 * 60, _L),  # reference 001: ≤ 30 minutes
    Metric.AVERAGE_HANDLE: Target(20 * 60, _L),
    Metric.FIRST_CONTACT_RESOLUTION: Target(85, _H),  # reference 001
    Metric.RESOLUTION_RATE: Target(95, _H),  # reference 001
    Metric.REOPEN_RATE: Target(5, _L),
    Metric.SLA_COMPLIANCE: Target(95, _H),
    Metric.ESCALATION_RATE: Target(10, _L),
    Metric.TRANSFERS_PER_CASE: Target(0.3, _L),
    Metric.SELF_SERVICE_RATE: Target(30, _H),
    Metric.CSAT: Target(90, _H),  # reference 001
    Metric.NPS: Target(30, _H),
    Metric.CES: Target(5, _H),
    Metric.SURVEY_RESPONSE_RATE: Target(20, _H),
    Metric.LOOP_COMPLETION: Target(95, _H),
    Metric.REPEAT_COMPLAINT_RATE: Target(5, _L),
}


def with_overrides(overrides: Mapping[Metric, float]) -> dict[Metric, Target]:
    """The default targets with an admin's thresholds in their place (directions never change)."""
    return {
        metric: Target(overrides.get(metric, target.threshold), target.direction)
        for metric, target in DEFAULT_TARGETS.items()
    }


def judge(figure: Figure, target: Target) -> Verdict:
    """On target when the value is at or past the threshold in the target's direction."""
    if figure.value is None:
        return Verdict.NO_DATA
    if target.direction == Direction.HIGHER:
        met = figure.value >= target.threshold
    else:
        met = figure.value <= target.threshold
    return Verdict.ON_TARGET if met else Verdict.OFF_TARGET
