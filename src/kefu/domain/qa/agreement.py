"""How far the automatic verdicts agree with people's: the share of equal verdicts and Cohen's
κ (agreement beyond what chance gives from how often each side says pass, fail or n/a), per
criterion — over a labelled set, or over the scores reviewers confirmed or corrected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

TRUSTED = 0.8  # below this agreement a criterion is advisory in the default scorecard


@dataclass(frozen=True)
class Agreement:
    pairs: int
    agreement: float | None  # share of pairs with the same verdict, None with no pair
    kappa: float | None

    @property
    def trusted(self) -> bool:
        return self.agreement is not None and self.agreement >= TRUSTED


def agreement(pairs: Iterable[tuple[str, str]]) -> Agreement:
    """``pairs`` of (automatic verdict, people's verdict)."""
    listed = list(pairs)
    n = len(listed)
    if not n:
        return Agreement(0, None, None)
    observed = sum(1 for a, b in listed if a == b) / n
    automatic = Counter(a for a, _ in listed)
    people = Counter(b for _, b in listed)
    chance = sum(automatic[k] * people[k] for k in automatic) / (n * n)
    if chance >= 1.0:  # both sides always said the same one thing
        return Agreement(n, observed, 1.0 if observed == 1.0 else 0.0)
    return Agreement(n, observed, (observed - chance) / (1.0 - chance))
