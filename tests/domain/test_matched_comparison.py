"""The statistics of matched comparisons (domain/matched_comparison.py), against hand-worked
values and scipy's Fisher exact test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from kefu.domain.matched_comparison import (
    Cell,
    cells,
    compare_means,
    compare_proportions,
    exact_p_value,
    wilson,
)


def _side(*strata: tuple[str, int, int]) -> dict[str, Cell]:
    """(stratum, successes, n) → cells."""
    return {s: Cell(n, float(x), float(x)) for s, x, n in strata}


def test_wilson_interval() -> None:
    # 5 of 10: centre (0.5 + 1.96²/20)/(1 + 1.96²/10) = 0.5, half-width
    # 1.96·sqrt(0.025 + 1.96²/400)/(1 + 1.96²/10) = 0.2634.
    low, high = wilson(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson(0, 20)[0] == 0.0 and wilson(0, 20)[1] > 0.1  # not collapsed to a point
    assert wilson(0, 0) == (0.0, 1.0)


def test_cochran_mantel_haenszel_by_hand() -> None:
    # Stratum a: group 30 of 40, others 60 of 60 → 90 of 100; E = 40·90/100 = 36,
    #   V = 40·60·90·10/(100²·99) = 24/11.
    # Stratum b: group 10 of 20, others 20 of 20 → 30 of 40; E = 20·30/40 = 15,
    #   V = 20·20·30·10/(40²·39) = 25/13.
    # X = 40, E = 51; statistic (11 − 0.5)²/(24/11 + 25/13) = 110.25·143/587.
    # Mantel–Fleiss: the sum ranges over 40..60, E = 51 is 9 ≥ 5 from its ends → CMH.
    figure = compare_proportions(
        _side(("a", 30, 40), ("b", 10, 20)), _side(("a", 60, 60), ("b", 20, 20))
    )
    statistic = 110.25 * 143 / 587
    assert figure.test == "cmh"
    assert figure.p_value == pytest.approx(math.erfc(math.sqrt(statistic / 2)))
    assert figure.significant
    # Mix a 2/3, b 1/3; the others resolve everything: baseline 1, difference 40/60 − 1.
    assert figure.baseline == pytest.approx(1.0)
    assert figure.difference == pytest.approx(-1 / 3)
    assert figure.difference_high is not None and figure.difference_high < 0


def test_exact_test_over_two_strata_by_hand() -> None:
    # Each stratum: group 1 of 1, others 0 of 1. Given the margins the group's count is 0 or 1
    # with probability 1/2 each, so the sum is 0, 1, 2 with 1/4, 1/2, 1/4. Observed 2;
    # two-sided p = P(0) + P(2) = 1/2.
    figure = compare_proportions(_side(("a", 1, 1), ("b", 1, 1)), _side(("a", 0, 1), ("b", 0, 1)))
    assert figure.test == "exact"
    assert figure.p_value == pytest.approx(0.5)
    assert not figure.significant


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.data())
def test_exact_test_of_one_stratum_is_fisher(n: int, m: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, n))
    y = data.draw(st.integers(0, m))
    expected = fisher_exact([[x, n - x], [y, m - y]]).pvalue
    assert exact_p_value([(x, n, y, m)]) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_strata_without_the_other_side_are_left_out() -> None:
    # Stratum b has no comparison cases: the group's two cases there are counted in its rate but
    # not in the matched difference.
    figure = compare_proportions(_side(("a", 1, 2), ("b", 2, 2)), _side(("a", 1, 4)))
    assert figure.rate == pytest.approx(0.75)
    assert (figure.n, figure.n_matched, figure.n_baseline) == (4, 2, 4)
    assert figure.difference == pytest.approx(0.5 - 0.25)


def test_means_by_hand() -> None:
    # One stratum: group scores 5, 3 (mean 4); others 4, 2 (mean 3). Squares about the means
    # 2 + 2 = 4 over 1 + 1 degrees of freedom: spread 2; error sqrt(2·(1/2 + 1/2)) = sqrt 2.
    # t = 1/sqrt 2 on 2 degrees of freedom, whose law has F(t) = 1/2 + t/(2·sqrt(2 + t²)):
    # two-sided p = 1 − t/sqrt(2 + t²) = 0.5528.
    group = cells([("a", 5.0), ("a", 3.0)])
    others = cells([("a", 4.0), ("a", 2.0)])
    figure = compare_means(group, others)
    t = 1 / math.sqrt(2)
    assert figure.difference == pytest.approx(1.0)
    assert figure.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t))
    assert figure.test == "t" and not figure.significant


def test_means_without_any_spread_give_no_p_value() -> None:
    figure = compare_means(cells([("a", 5.0)]), cells([("a", 3.0), ("a", 3.0)]))
    assert figure.difference == pytest.approx(2.0)
    assert figure.p_value is None and not figure.significant
