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

Pure: no SQL, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
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


@dataclass(frozen=True)
class _Measure:
    value: Callable[[TicketOutcome], float | None]
    compare: Callable[[dict[Stratum, Cell], dict[Stratum, Cell]], Comparison]


def _csat_satisfied(outcome: TicketOutcome) -> float | None:
    return None if outcome.csat is None else float(outcome.csat >= SATISFIED_FROM)


_MEASURES = {
    "resolution": _Measure(lambda o: float(o.resolved), compare_proportions),
    "first_contact_resolution": _Measure(
        lambda o: float(o.first_contact_resolved), compare_proportions
    ),
    "csat_satisfied": _Measure(_csat_satisfied, compare_proportions),
    "csat_average": _Measure(lambda o: None if o.csat is None else float(o.csat), compare_means),
}
_SCORED = ("resolution", "first_contact_resolution", "csat_satisfied")


def _cells_of(outcomes: Iterable[TicketOutcome], measure: _Measure) -> dict[Stratum, Cell]:
    pairs = ((o.stratum, measure.value(o)) for o in outcomes)
    return cells((s, v) for s, v in pairs if v is not None)


def _weak_reasons(
    figures: dict[str, Comparison], tickets: int, min_uses: int
) -> tuple[WeakReason, ...]:
    def worse(name: str) -> bool:
        c = figures[name]
        return c.significant and c.difference is not None and c.difference < 0

    reasons = []
    if worse("resolution"):
        reasons.append(WeakReason.WORSE_RESOLUTION)
    if worse("csat_satisfied") or worse("csat_average"):
        reasons.append(WeakReason.WORSE_CSAT)
    if tickets < min_uses:
        reasons.append(WeakReason.TOO_FEW_USES)
    return tuple(reasons)


def _score(figures: dict[str, Comparison]) -> float | None:
    lows = [low for name in _SCORED if (low := figures[name].difference_low) is not None]
    return sum(lows) / len(lows) if lows else None


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
    everyone = {name: _cells_of(by_ticket.values(), m) for name, m in _MEASURES.items()}

    effects = []
    for script_id, used_on in tickets_of.items():
        known = [by_ticket[t] for t in used_on if t in by_ticket]
        figures = {}
        for name, measure in _MEASURES.items():
            group = _cells_of(known, measure)
            figures[name] = measure.compare(group, rest(everyone[name], group))
        effects.append(
            ScriptEffect(
                script_id=script_id,
                uses=len(used_on),
                tickets=len(known),
                resolution=figures["resolution"],
                first_contact_resolution=figures["first_contact_resolution"],
                csat_satisfied=figures["csat_satisfied"],
                csat_average=figures["csat_average"],
                score=_score(figures),
                weak_reasons=_weak_reasons(figures, len(known), min_uses),
            )
        )
    return sorted(effects, key=_rank_key)


def _rank_key(effect: ScriptEffect) -> tuple[bool, float, int, int]:
    return (effect.score is None, -(effect.score or 0.0), -effect.tickets, effect.script_id)
