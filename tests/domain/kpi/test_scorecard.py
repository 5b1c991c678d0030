"""The agents' composite score against hand-worked values (domain/kpi/scorecard.py)."""

from __future__ import annotations

import pytest

from kefu.domain.kpi.metrics import Figure, Metric, Unit, all_figures
from kefu.domain.kpi.scorecard import Pillar, component_score, scorecard
from kefu.domain.kpi.targets import DEFAULT_TARGETS, Direction, Target


def test_a_component_scores_its_distance_to_the_target() -> None:
    higher, lower = Target(80, Direction.HIGHER), Target(120, Direction.LOWER)
    assert component_score(None, higher) is None
    assert component_score(90, higher) == 100 and component_score(80, higher) == 100
    assert component_score(60, higher) == pytest.approx(75)
    assert component_score(0, higher) == 0
    assert component_score(100, lower) == 100 and component_score(0, lower) == 100
    assert component_score(240, lower) == pytest.approx(50)


def _figures(values: dict[Metric, float | None]) -> dict[Metric, Figure]:
    figures = all_figures([])
    for metric, value in values.items():
        unit = figures[metric].unit
        figures[metric] = Figure(value, value, 1 if value is not None else 0, unit)
    return figures


def test_the_composite_weighs_efficiency_quality_and_outcome() -> None:
    # Defaults: first response ≤ 120 s, AHT ≤ 1200 s, SLA ≥ 95, reopen ≤ 5, FCR ≥ 85,
    # resolution ≥ 95, CSAT ≥ 90.
    figures = _figures(
        {
            Metric.FIRST_RESPONSE_MEAN: 240,  # 50
            Metric.AVERAGE_HANDLE: 600,  # 100
            Metric.SLA_COMPLIANCE: 76,  # 80
            Metric.REOPEN_RATE: 10,  # 50
            Metric.FIRST_CONTACT_RESOLUTION: 85,  # 100
            Metric.RESOLUTION_RATE: 47.5,  # 50
            Metric.CSAT: 72,  # 80
        }
    )
    card = scorecard(figures, DEFAULT_TARGETS)
    assert card.scores[Metric.SLA_COMPLIANCE] == pytest.approx(80)
    assert card.pillars[Pillar.EFFICIENCY] == pytest.approx(75)
    assert card.pillars[Pillar.QUALITY] == pytest.approx(65)
    assert card.pillars[Pillar.OUTCOME] == pytest.approx((1500 + 750 + 800) / 40)
    # (15·50 + 15·100 + 15·80 + 15·50 + 15·100 + 15·50 + 10·80) / 100
    assert card.composite == pytest.approx(72.5)  # 7250 / 100


def test_missing_figures_leave_the_composite_to_the_others() -> None:
    figures = _figures({Metric.FIRST_RESPONSE_MEAN: 60, Metric.RESOLUTION_RATE: 57})
    card = scorecard(figures, DEFAULT_TARGETS)
    assert card.scores[Metric.CSAT] is None and card.pillars[Pillar.QUALITY] is None
    assert card.composite == pytest.approx((15 * 100 + 15 * 60) / 30)
    assert scorecard(all_figures([]), DEFAULT_TARGETS).composite is None
    assert figures[Metric.CSAT].unit == Unit.PERCENT
