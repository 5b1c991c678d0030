"""The median of a large sorted run read through a small window, with a few loose values added.

The KPI rollup keeps every case's first response time in an index sorted by that time. The
median of ``stored`` such values is the mean of the values at the two middle ranks, so the
database need only hand over the values at those ranks (``OFFSET rank LIMIT 2``), not sort them
all. Cases changed since the last refresh are left out of the run and their current values
(``fresh``, a few hundred at most) added: the middle ranks of the union then lie at most
``len(fresh)`` places before the run's own middle, so a window that much wider is enough.

``window(stored, fresh)`` says which part of the run to read; ``median_with(part, first,
fresh, stored)`` finds the median of the run and the fresh values from that part alone — the
same number ``statistics.median`` gives over all of them.
"""

from __future__ import annotations

from collections.abc import Sequence


def middle_ranks(count: int) -> tuple[int, int]:
    """The 0-based ranks whose values' mean is the median of ``count`` values (count ≥ 1)."""
    return (count - 1) // 2, count // 2


def window(stored: int, fresh: int) -> tuple[int, int]:
    """(first rank, how many) of the stored run to read for the median of the run and ``fresh``
    other values; (0, 0) when nothing needs reading."""
    if stored <= 0:
        return 0, 0
    low, high = middle_ranks(stored + fresh)
    first = max(0, low - fresh)
    last = min(stored - 1, high)
    return first, last - first + 1


def median_with(
    part: Sequence[float], first: int, fresh: Sequence[float], stored: int
) -> float | None:
    """The median of a sorted run of ``stored`` values and the ``fresh`` values, given the
    run's values from rank ``first`` on (``part``, sorted, as ``window`` asked). None when there
    are no values at all."""
    count = stored + len(fresh)
    if count == 0:
        return None
    if first > 0 and not part:
        raise ValueError("a window past the start of the run cannot be empty")
    loose = sorted(fresh)
    if first == 0:
        before, merged = 0, sorted([*part, *loose])
    else:
        lowest = part[0]  # everything the window skipped is at most this
        below = [v for v in loose if v < lowest]
        before = first + len(below)
        merged = sorted([*part, *(v for v in loose if v >= lowest)])
    low, high = middle_ranks(count)
    if high - before >= len(merged):
        raise ValueError("the window read does not reach the middle of the values")
    return (merged[low - before] + merged[high - before]) / 2
