"""An agent's scorecard (坐席综合评分): efficiency, quality and outcome weighed together, so
that nobody is ranked by handle time alone.

Each component figure is scored 0–100 against its target (domain/kpi/targets.py):

- a figure at or past its target scores 100;
- below a "higher is better" target it scores ``100 × value / threshold``;
- above a "lower is better" target it scores ``100 × threshold / value``.

The composite is the weighted mean of the component scores the agent has data for (a component
without data is left out and the others' weights renormalised); with no data at all there is no
composite. The weights:

- efficiency 30 %: first response time (mean) 15, average handle time 15;
- quality 30 %: SLA compliance 15, reopen rate 15 (a QA review score would join here);
- outcome 40 %: first-contact resolution 15, resolution rate 15, CSAT 10.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kefu.domain.kpi.metrics import Figure, Metric
from kefu.domain.kpi.targets import Direction, Target


class Pillar(StrEnum):
    EFFICIENCY = "efficiency"
    QUALITY = "quality"
    OUTCOME = "outcome"


@dataclass(frozen=True)
class Component:
    metric: Metric
    pillar: Pillar
    weight: float


COMPONENTS: tuple[Component, ...] = (
    Component(Metric.FIRST_RESPONSE_MEAN, Pillar.EFFICIENCY, 15),
    Component(Metric.AVERAGE_HANDLE, Pillar.EFFICIENCY, 15),
    Component(Metric.SLA_COMPLIANCE, Pillar.QUALITY, 15),
    Component(Metric.REOPEN_RATE, Pillar.QUALITY, 15),
    Component(Metric.FIRST_CONTACT_RESOLUTION, Pillar.OUTCOME, 15),
    Component(Metric.RESOLUTION_RATE, Pillar.OUTCOME, 15),
    Component(Metric.CSAT, Pillar.OUTCOME, 10),
)


def component_score(value: float | None, target: Target) -> float | None:
    """0–100: how close a figure comes to its target (100 at or past it); None without data."""
    if value is None:
        return None
    if target.direction == Direction.HIGHER:
        if value >= target.threshold or target.threshold <= 0:
            return 100.0
        return max(0.0, 100.0 * value / target.threshold)
    if value <= target.threshold:
        return 100.0
    return 100.0 * target.threshold / value


@dataclass(frozen=True)
class Scorecard:
    scores: dict[Metric, float | None]  # each component's score
    pillars: dict[Pillar, float | None]  # the weighted mean of each pillar's scores
    composite: float | None


def _weighted(parts: list[tuple[float, float | None]]) -> float | None:
    known = [(w, s) for w, s in parts if s is not None]
    weight = sum(w for w, _ in known)
    return sum(w * s for w, s in known) / weight if weight else None


def scorecard(figures: Mapping[Metric, Figure], targets: Mapping[Metric, Target]) -> Scorecard:
    """The component, pillar and composite scores of one agent's figures."""
    scores = {
        c.metric: component_score(figures[c.metric].value, targets[c.metric]) for c in COMPONENTS
    }
    pillars = {
        p: _weighted([(c.weight, scores[c.metric]) for c in COMPONENTS if c.pillar == p])
        for p in Pillar
    }
    composite = _weighted([(c.weight, scores[c.metric]) for c in COMPONENTS])
    return Scorecard(scores, pillars, composite)
