from statistics import median

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.kpi.median import median_with, middle_ranks, window

VALUES = st.lists(st.integers(0, 50).map(float), max_size=40)


@given(stored=VALUES, fresh=VALUES)
def test_the_window_and_the_fresh_values_give_the_median_of_everything(stored, fresh):
    run = sorted(stored)
    first, count = window(len(run), len(fresh))
    got = median_with(run[first : first + count], first, fresh, len(run))
    if not run and not fresh:
        assert got is None
    else:
        assert got == median(run + fresh)


@given(stored=st.integers(1, 10_000), fresh=st.integers(0, 500))
def test_the_window_is_never_wider_than_the_fresh_values_and_two(stored, fresh):
    first, count = window(stored, fresh)
    assert 0 <= first and first + count <= stored
    assert 1 <= count <= fresh + 2


def test_with_nothing_changed_two_values_are_read_at_the_middle():
    assert window(1_000_001, 0) == (500_000, 1)
    assert window(1_000_000, 0) == (499_999, 2)
    assert middle_ranks(4) == (1, 2)
    assert median_with([5.0, 7.0], 1, [], 4) == 6.0


def test_a_window_that_came_back_short_is_refused_not_misread():
    with pytest.raises(ValueError):
        median_with([], 3, [1.0], 10)
    with pytest.raises(ValueError):
        median_with([1.0], 4, [], 10)
