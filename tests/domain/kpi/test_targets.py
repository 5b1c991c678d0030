"""Default targets (reference 001 and kefu's own) and the on/off-target judgement."""

from __future__ import annotations

import pytest

from kefu.domain.kpi.metrics import Figure, Metric, Unit
from kefu.domain.kpi.targets import (
    DEFAULT_TARGETS,
    Direction,
    Target,
    Verdict,
    judge,
    with_overrides,
)


def pct(value: float | None) -> Figure:
    return Figure(
        value, None if value is None else value, 0 if value is None else 100, Unit.PERCENT
    )


def test_every_metric_has_a_default_target() -> None:
    assert set(DEFAULT_TARGETS) == set(Metric)


def test_reference_001_targets() -> None:
    assert DEFAULT_TARGETS[Metric.FIRST_CONTACT_RESOLUTION] == Target(85, Direction.HIGHER)
    assert DEFAULT_TARGETS[Metric.CSAT] == Target(90, Direction.HIGHER)
    assert DEFAULT_TARGETS[Metric.AVERAGE_RESPONSE] == Target(1800, Direction.LOWER)
    assert DEFAULT_TARGETS[Metric.RESOLUTION_RATE] == Target(95, Direction.HIGHER)


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (85, Verdict.ON_TARGET),
        (90, Verdict.ON_TARGET),
        (84.9, Verdict.OFF_TARGET),
        (None, Verdict.NO_DATA),
    ],
)
def test_higher_is_better_meets_at_or_above(value: float | None, verdict: Verdict) -> None:
    assert judge(pct(value), DEFAULT_TARGETS[Metric.FIRST_CONTACT_RESOLUTION]) == verdict


@pytest.mark.parametrize(
    ("seconds", "verdict"),
    [(1800, Verdict.ON_TARGET), (60, Verdict.ON_TARGET), (1801, Verdict.OFF_TARGET)],
)
def test_lower_is_better_meets_at_or_below(seconds: float, verdict: Verdict) -> None:
    figure = Figure(seconds, seconds, 1, Unit.SECONDS)
    assert judge(figure, DEFAULT_TARGETS[Metric.AVERAGE_RESPONSE]) == verdict


def test_a_negative_nps_is_judged_like_any_value() -> None:
    assert judge(Figure(-20, -1, 5, Unit.NPS), DEFAULT_TARGETS[Metric.NPS]) == Verdict.OFF_TARGET


def test_an_admins_threshold_replaces_the_default_but_not_its_direction() -> None:
    targets = with_overrides({Metric.CSAT: 80})
    assert targets[Metric.CSAT] == Target(80, Direction.HIGHER)
    assert targets[Metric.REOPEN_RATE] == DEFAULT_TARGETS[Metric.REOPEN_RATE]
    assert judge(pct(85), targets[Metric.CSAT]) == Verdict.ON_TARGET
    assert judge(pct(85), DEFAULT_TARGETS[Metric.CSAT]) == Verdict.OFF_TARGET
