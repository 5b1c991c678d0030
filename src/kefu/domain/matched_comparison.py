"""Comparing a group of tickets with the tickets like them (比较同类工单): the statistics behind
script effectiveness (domain/script_effectiveness.py), kept apart so the KPI work can reuse them.

Tickets are split into strata (here category × priority). The group is compared with the other
tickets of the same strata only, and the other tickets' figure of each stratum is weighted by the
group's own share of that stratum (direct standardisation to the group's mix): a group that sits
in hard strata is compared with hard tickets, not with the average ticket.

**Proportions** (resolved, first-contact resolved, satisfied) — ``compare_proportions``:

- The p-value is that of the stratified test of "no association inside any stratum" on the sum
  of the group's successes given every stratum's margins. With enough data it is the
  Cochran–Mantel–Haenszel test (with continuity correction); when the Mantel–Fleiss rule says the
  normal approximation is not to be trusted (the expected sum lies within 5 of the lowest or
  highest sum the margins allow) the exact distribution is used instead: the convolution of each
  stratum's hypergeometric law, which is Fisher's exact test when there is one stratum. Small
  samples therefore get an exact, conservative answer rather than a normal approximation that
  calls three lucky tickets significant.
- The interval of the group's rate is Wilson's score interval (right coverage near 0 % and 100 %,
  where service rates live; the plain ± 1.96·SE interval collapses to a point there). The
  interval of the difference is Newcombe's hybrid score interval built from two Wilson intervals;
  the baseline's interval uses the Kish effective size of the weighted comparison group.

**Means** (CSAT average) — ``compare_means``: a stratified Student t on the standardised
difference, the variance pooled inside strata across both sides (scores on a short bounded scale
have similar spread; pooling lets a group of one ticket be tested at all, and honestly: with one
ticket the interval is wide). No spread at all (every score the same inside each stratum) gives no
p-value rather than a false certainty.

Pure arithmetic; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

Z95 = 1.959963984540054
# Mantel–Fleiss: the normal approximation is trusted when the expected sum lies at least this far
# from both ends of its range.
MANTEL_FLEISS_MARGIN = 5.0
# Above this many group tickets the exact convolution is too slow for a dashboard; CMH is used.
EXACT_LIMIT = 2000

S = TypeVar("S")


@dataclass(frozen=True)
class Cell:
    """One stratum on one side: ``n`` tickets, ``total`` the sum of their values (successes for
    a proportion), ``squares`` the sum of squared values (means only)."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def minus(self, other: Cell) -> Cell:
        return Cell(self.n - other.n, self.total - other.total, self.squares - other.squares)


@dataclass(frozen=True)
class Comparison:
    """The group against its matched baseline on one outcome.

    ``rate`` is the group's figure over all its tickets with data, with its Wilson interval
    (proportions only). ``baseline`` is the comparison tickets' figure weighted by the group's
    mix, over the strata that have comparison tickets; ``difference`` is the group's figure on
    those matched tickets minus ``baseline`` (so it can differ from ``rate - baseline`` when some
    of the group's tickets have nothing to be compared with), with its 95 % interval.
    ``n`` / ``n_matched`` / ``n_baseline``: the group's tickets with data, those in a stratum
    with comparison tickets, and the comparison tickets in those strata. ``test``: "exact",
    "cmh", "t", or "" when there was nothing to test."""

    rate: float | None
    rate_low: float | None
    rate_high: float | None
    baseline: float | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    n: int
    n_matched: int
    n_baseline: int
    p_value: float | None
    test: str
    significant: bool


@dataclass(frozen=True)
class _Matched(Generic[S]):
    strata: list[S]
    weights: dict[S, float]
    n_matched: int
    n_baseline: int


def _match(group: Mapping[S, Cell], others: Mapping[S, Cell]) -> _Matched[S]:
    strata = sorted(
        (s for s, c in group.items() if c.n > 0 and others.get(s, Cell()).n > 0), key=repr
    )
    n_matched = sum(group[s].n for s in strata)
    return _Matched(
        strata,
        {s: group[s].n / n_matched for s in strata},
        n_matched,
        sum(others[s].n for s in strata),
    )


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of a proportion; (0, 1) when there is no data."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _hypergeometric(drawn: int, successes: int, total: int) -> tuple[int, list[float]]:
    """The law of the successes among ``drawn`` of ``total`` items, ``successes`` of them
    successes: (lowest possible count, probabilities from it upwards)."""
    low = max(0, drawn - (total - successes))
    high = min(drawn, successes)
    base = _log_comb(total, drawn)
    return low, [
        math.exp(_log_comb(successes, k) + _log_comb(total - successes, drawn - k) - base)
        for k in range(low, high + 1)
    ]


def exact_p_value(tables: list[tuple[int, int, int, int]]) -> float:
    """Two-sided exact p of the summed successes (x, n, y, m per stratum): the probability of a
    sum no likelier than the observed one (Fisher's rule, with scipy's relative tolerance)."""
    offset, law = 0, [1.0]
    observed = 0
    for x, n, y, m in tables:
        low, pmf = _hypergeometric(n, x + y, n + m)
        convolved = [0.0] * (len(law) + len(pmf) - 1)
        for i, a in enumerate(law):
            if a:
                for j, b in enumerate(pmf):
                    convolved[i + j] += a * b
        offset, law = offset + low, convolved
        observed += x
    cutoff = law[observed - offset] * (1 + 1e-7)
    return min(1.0, sum(p for p in law if p <= cutoff))


def _cmh_p(tables: list[tuple[int, int, int, int]]) -> float:
    expected = variance = 0.0
    observed = 0
    for x, n, y, m in tables:
        total, successes = n + m, x + y
        observed += x
        expected += n * successes / total
        if total > 1:
            variance += n * m * successes * (total - successes) / (total * total * (total - 1))
    if variance <= 0:
        return 1.0
    statistic = max(0.0, abs(observed - expected) - 0.5) ** 2 / variance
    return math.erfc(math.sqrt(statistic / 2))


def _trust_normal(tables: list[tuple[int, int, int, int]]) -> bool:
    expected = sum(n * (x + y) / (n + m) for x, n, y, m in tables)
    lowest = sum(max(0, x + y - m) for x, n, y, m in tables)
    highest = sum(min(n, x + y) for x, n, y, m in tables)
    return min(expected - lowest, highest - expected) >= MANTEL_FLEISS_MARGIN


def compare_proportions(
    group: Mapping[S, Cell], others: Mapping[S, Cell], *, alpha: float = 0.05
) -> Comparison:
    """The group's success rate against the matched baseline (see the module docstring)."""
    n = sum(c.n for c in group.values())
    successes = sum(c.total for c in group.values())
    rate = successes / n if n else None
    rate_low, rate_high = wilson(successes, n) if n else (None, None)
    matched = _match(group, others)
    if not matched.strata:
        return Comparison(rate, rate_low, rate_high, None, None, None, None, n, 0, 0, None, "",
                          False)  # fmt: skip
    w = matched.weights
    own = sum(group[s].total for s in matched.strata) / matched.n_matched
    baseline = sum(w[s] * others[s].total / others[s].n for s in matched.strata)
    # Kish effective size of the weighted comparison group, for its Wilson interval.
    effective = 1 / sum(w[s] ** 2 / others[s].n for s in matched.strata)
    own_low, own_high = wilson(own * matched.n_matched, matched.n_matched)
    base_low, base_high = wilson(baseline * effective, effective)
    difference = own - baseline
    low = difference - math.hypot(own - own_low, base_high - baseline)
    high = difference + math.hypot(own_high - own, baseline - base_low)
    tables = [
        (round(group[s].total), group[s].n, round(others[s].total), others[s].n)
        for s in matched.strata
    ]
    exact = matched.n_matched <= EXACT_LIMIT and not _trust_normal(tables)
    p = exact_p_value(tables) if exact else _cmh_p(tables)
    return Comparison(rate, rate_low, rate_high, baseline, difference, low, high, n,
                      matched.n_matched, matched.n_baseline, p, "exact" if exact else "cmh",
                      p < alpha)  # fmt: skip


def _squares_about_mean(cell: Cell) -> float:
    return max(0.0, cell.squares - cell.total * cell.total / cell.n)


def compare_means(
    group: Mapping[S, Cell], others: Mapping[S, Cell], *, alpha: float = 0.05
) -> Comparison:
    """The group's mean against the matched baseline mean (see the module docstring)."""
    from scipy.special import stdtr, stdtrit  # lazily: only dashboards need the t law

    n = sum(c.n for c in group.values())
    rate = sum(c.total for c in group.values()) / n if n else None
    matched = _match(group, others)
    if not matched.strata:
        return Comparison(rate, None, None, None, None, None, None, n, 0, 0, None, "", False)
    w = matched.weights
    own = sum(group[s].total for s in matched.strata) / matched.n_matched
    baseline = sum(w[s] * others[s].total / others[s].n for s in matched.strata)
    difference = own - baseline
    cells = [c for s in matched.strata for c in (group[s], others[s])]
    freedom = sum(c.n - 1 for c in cells)
    spread = sum(_squares_about_mean(c) for c in cells) / freedom if freedom else 0.0
    error = math.sqrt(spread * (1 / matched.n_matched + sum(w[s] ** 2 / others[s].n
                                                            for s in matched.strata)))  # fmt: skip
    if error <= 1e-12:
        return Comparison(rate, None, None, baseline, difference, None, None, n,
                          matched.n_matched, matched.n_baseline, None, "", False)  # fmt: skip
    p = float(2 * stdtr(freedom, -abs(difference) / error))
    margin = float(stdtrit(freedom, 1 - alpha / 2)) * error
    return Comparison(rate, None, None, baseline, difference, difference - margin,
                      difference + margin, n, matched.n_matched, matched.n_baseline, p, "t",
                      p < alpha)  # fmt: skip


def cells(values: Iterable[tuple[S, float]]) -> dict[S, Cell]:
    """Sum (stratum, value) pairs into one cell per stratum."""
    sums: dict[S, list[float]] = {}
    for stratum, value in values:
        cell = sums.get(stratum)
        if cell is None:
            cell = sums[stratum] = [0, 0.0, 0.0]
        cell[0] += 1
        cell[1] += value
        cell[2] += value * value
    return {s: Cell(int(n), total, squares) for s, (n, total, squares) in sums.items()}


def rest(everyone: Mapping[S, Cell], group: Mapping[S, Cell]) -> dict[S, Cell]:
    """Everyone's cells without the group's: the comparison tickets, per stratum."""
    return {s: c.minus(group.get(s, Cell())) for s, c in everyone.items()}
