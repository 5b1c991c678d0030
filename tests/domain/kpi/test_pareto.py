"""The Pareto bars against hand-worked shares."""

from __future__ import annotations

import pytest

from kefu.domain.kpi.pareto import ParetoBar, pareto


def test_bars_largest_first_with_their_running_share() -> None:
    bars = pareto({"quality": 3, "logistics": 5, "service": 0, "price_billing": 2})
    assert [(b.key, b.count) for b in bars] == [
        ("logistics", 5),
        ("quality", 3),
        ("price_billing", 2),
    ]
    assert [b.share for b in bars] == pytest.approx([50, 30, 20])
    assert [b.cumulative for b in bars] == pytest.approx([50, 80, 100])


def test_ties_go_by_key_and_nothing_makes_no_bars() -> None:
    assert pareto({"b": 1, "a": 1, "": 2}) == [
        ParetoBar("", 2, 50.0, 50.0),
        ParetoBar("a", 1, 25.0, 75.0),
        ParetoBar("b", 1, 25.0, 100.0),
    ]
    assert pareto({}) == [] and pareto({"x": 0}) == []
