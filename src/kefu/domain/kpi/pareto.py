"""The Pareto view of counts (投诉类别帕累托图): the largest first, each with its share and the
running (cumulative) share of the total, so the few categories that make most of the cases
stand out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ParetoBar:
    key: str
    count: int
    share: float  # this bar's percentage of the total (0–100)
    cumulative: float  # the percentage of the total made by this bar and every larger one


def pareto(counts: Mapping[str, int]) -> list[ParetoBar]:
    """Bars sorted by count, largest first (ties by key); zero and negative counts are left out.

    The last bar's cumulative share is 100 (rounding aside); no counts, no bars.
    """
    items = sorted(((k, c) for k, c in counts.items() if c > 0), key=lambda kc: (-kc[1], kc[0]))
    total = sum(c for _, c in items)
    bars: list[ParetoBar] = []
    running = 0
    for key, count in items:
        running += count
        bars.append(ParetoBar(key, count, 100.0 * count / total, 100.0 * running / total))
    return bars
