"""Script effectiveness (话术效果追踪): does a script go with better outcomes than the replies
written without it, on the same kind of case?

For every script, from its use records (services/scripts/uses.py): the cases it was used in, and
on them the resolution rate, the first-contact resolution rate (FCR, over all its cases: a case
not resolved was not resolved at first contact), CSAT % (scores 4–5 of 5, over the surveyed cases)
and the CSAT average — each against the cases of the same category × priority where the script
was not used, weighted by the script's own mix of category × priority (domain/matched_comparison.py
says how, and which tests: Cochran–Mantel–Haenszel, or the exact stratified test — Fisher's for one
stratum — when the sample is too small for the normal approximation; Wilson and Newcombe
intervals; a stratified t for the average). A script used only on hard cases is thus compared with
hard cases, and is not called weak because hard cases resolve less.

This is an association, not proof: agents choose when to use a script. The matching removes
the part of the difference that category and priority explain; it cannot remove the rest.

**Counting.** A script used several times on one case counts that case once. ``uses`` is the
number of distinct cases in the script's use records; ``tickets`` the number of those whose
outcome is known (in ``outcomes``). A script used on every case has no comparison cases and so no
baseline, no difference and no p-value.

**Weak scripts** (``weak``, with the reasons in ``weak_reasons``): significantly worse (p < 0.05)
than the matched baseline on resolution, or on CSAT (CSAT % or the average); or used on fewer
than ``min_uses`` known cases, too few to judge — kept apart as ``WeakReason.TOO_FEW_USES`` so a
page can say "not enough data" rather than "bad". With many scripts, some will cross p < 0.05 by
chance: a weak flag asks for a look at the script, not for its removal.

**Ranking score.** The mean, over resolution, FCR and CSAT % (those with a baseline), of the lower
end of the 95 % interval of the difference: the improvement the data can vouch for. A tiny sample
has a wide interval, so its lower end is low: three lucky cases never outrank a script proven on
three hundred. Scripts without a baseline have no score and come last. Ties: more cases first,
then the lower script id.

**At scale.** ``effectiveness`` takes every case; a service over a large period can instead sum
the tallies in the database (per script × category × priority, and per category × priority:
count, sum and sum of squares of each measure) and call ``judge`` for each script, then ``rank``.

Pure: no SQL, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kefu.domain.matched_comparison import (
    Cell,
    Comparison,
    cells,
    compare_means,
    compare_proportions,
    rest,
)

MIN_USES = 30  # the usual rule of thumb below which a rate says little
SATISFIED_FROM = 4  # CSAT % counts the scores 4 and 5 of 5

Stratum = tuple[str, str]


@dataclass(frozen=True)
class TicketOutcome:
    """What became of one case: its category and priority (the matching strata), whether it was
    resolved, resolved at first contact, and its CSAT score (1–5) if the customer answered."""

    ticket_id: int
    category: str
    priority: str
    resolved: bool
    first_contact_resolved: bool
    csat: int | None = None

    def __post_init__(self) -> None:
        if self.csat is not None and not 1 <= self.csat <= 5:
            raise ValueError(f"CSAT score {self.csat} is not between 1 and 5")

    @property
    def stratum(self) -> Stratum:
        return self.category, self.priority


@dataclass(frozen=True)
class ScriptUse:
    script_id: int
    ticket_id: int


class WeakReason(StrEnum):
    WORSE_RESOLUTION = "worse_resolution"
    WORSE_CSAT = "worse_csat"
    TOO_FEW_USES = "too_few_uses"


@dataclass(frozen=True)
class ScriptEffect:
    script_id: int
    uses: int
    tickets: int
    resolution: Comparison
    first_contact_resolution: Comparison
    csat_satisfied: Comparison
    csat_average: Comparison
    score: float | None
    weak_reasons: tuple[WeakReason, ...]

    @property
    def weak(self) -> bool:
        return bool(self.weak_reasons)


class Measure(StrEnum):
    RESOLUTION = "resolution"
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution"
    CSAT_SATISFIED = "csat_satisfied"  # CSAT %: scores 4–5 of 5, over the answered cases
    CSAT_AVERAGE = "csat_average"


# Per measure, per stratum: the cases with a value for the measure (domain/matched_comparison.Cell:
# how many, the sum of their values, the sum of their squares). A service may build these with
# one GROUP BY per side instead of loading every case (``judge``).
Tallies = Mapping[Measure, Mapping[Stratum, Cell]]

_SCORED = (Measure.RESOLUTION, Measure.FIRST_CONTACT_RESOLUTION, Measure.CSAT_SATISFIED)


def _values(outcome: TicketOutcome) -> Iterator[tuple[Measure, float]]:
    yield Measure.RESOLUTION, float(outcome.resolved)
    yield Measure.FIRST_CONTACT_RESOLUTION, float(outcome.first_contact_resolved)
    if outcome.csat is not None:
        yield Measure.CSAT_SATISFIED, float(outcome.csat >= SATISFIED_FROM)
        yield Measure.CSAT_AVERAGE, float(outcome.csat)


def tally(outcomes: Iterable[TicketOutcome]) -> dict[Measure, dict[Stratum, Cell]]:
    """The cases' tallies, per measure and stratum."""
    pairs: dict[Measure, list[tuple[Stratum, float]]] = {m: [] for m in Measure}
    for outcome in outcomes:
        for measure, value in _values(outcome):
            pairs[measure].append((outcome.stratum, value))
    return {measure: cells(values) for measure, values in pairs.items()}


def _weak_reasons(
    figures: Mapping[Measure, Comparison], tickets: int, min_uses: int
) -> tuple[WeakReason, ...]:
    def worse(measure: Measure) -> bool:
        c = figures[measure]
        return c.significant and c.difference is not None and c.difference < 0

    reasons = []
    if worse(Measure.RESOLUTION):
        reasons.append(WeakReason.WORSE_RESOLUTION)
    if worse(Measure.CSAT_SATISFIED) or worse(Measure.CSAT_AVERAGE):
        reasons.append(WeakReason.WORSE_CSAT)
    if tickets < min_uses:
        reasons.append(WeakReason.TOO_FEW_USES)
    return tuple(reasons)


def _score(figures: Mapping[Measure, Comparison]) -> float | None:
    lows = [low for m in _SCORED if (low := figures[m].difference_low) is not None]
    return sum(lows) / len(lows) if lows else None


def judge(
    script_id: int, *, uses: int, group: Tallies, everyone: Tallies, min_uses: int = MIN_USES
) -> ScriptEffect:
    """One script's figures from tallies: ``group`` of the known cases it was used in (each
    once), ``everyone`` of all known cases (the script's included); ``uses`` the distinct cases
    in its use records."""
    figures = {}
    for measure in Measure:
        own = group.get(measure, {})
        others = rest(everyone.get(measure, {}), own)
        compare = compare_means if measure is Measure.CSAT_AVERAGE else compare_proportions
        figures[measure] = compare(own, others)
    tickets = sum(c.n for c in group.get(Measure.RESOLUTION, {}).values())
    return ScriptEffect(
        script_id=script_id,
        uses=uses,
        tickets=tickets,
        resolution=figures[Measure.RESOLUTION],
        first_contact_resolution=figures[Measure.FIRST_CONTACT_RESOLUTION],
        csat_satisfied=figures[Measure.CSAT_SATISFIED],
        csat_average=figures[Measure.CSAT_AVERAGE],
        score=_score(figures),
        weak_reasons=_weak_reasons(figures, tickets, min_uses),
    )


def rank(effects: Iterable[ScriptEffect]) -> list[ScriptEffect]:
    """Best first: by score, scripts without one last; then more cases, then the lower id."""
    return sorted(
        effects, key=lambda e: (e.score is None, -(e.score or 0.0), -e.tickets, e.script_id)
    )


def effectiveness(
    outcomes: Iterable[TicketOutcome],
    uses: Iterable[ScriptUse],
    *,
    min_uses: int = MIN_USES,
) -> list[ScriptEffect]:
    """Every script in ``uses``, with its figures against the matched baseline, best first (see
    the module docstring). Each case appears once in ``outcomes``."""
    by_ticket: dict[int, TicketOutcome] = {}
    for outcome in outcomes:
        if outcome.ticket_id in by_ticket:
            raise ValueError(f"ticket {outcome.ticket_id} has two outcomes")
        by_ticket[outcome.ticket_id] = outcome
    tickets_of: dict[int, set[int]] = defaultdict(set)
    for use in uses:
        tickets_of[use.script_id].add(use.ticket_id)
    everyone = tally(by_ticket.values())
    return rank(
        judge(
            script_id,
            uses=len(used_on),
            group=tally(by_ticket[t] for t in used_on if t in by_ticket),
            everyone=everyone,
            min_uses=min_uses,
        )
        for script_id, used_on in tickets_of.items()
    )
