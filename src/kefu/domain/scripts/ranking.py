"""Which scripts fit a situation (话术推荐): matching conditions and their score.

A script's conditions name the intents, categories, emotions, case stages and customer profiles
(vip, first_contact, repeat_complaint) it is written for; an empty list means "any". A script
whose non-empty condition the situation does not meet does not fit at all; among those that
fit, each met condition adds its weight, so the most specific script ranks first. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

PROFILES = ("vip", "first_contact", "repeat_complaint")
CONDITION_KEYS = ("intents", "categories", "emotions", "stages", "profiles")
WEIGHTS = {"categories": 4.0, "intents": 3.0, "emotions": 2.0, "profiles": 2.0, "stages": 1.0}


@dataclass(frozen=True)
class Conditions:
    intents: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    emotions: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    profiles: frozenset[str] = frozenset()
    first_reply: bool | None = None  # openers: only on (True) or never on (False) a first reply

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Conditions:
        data = data or {}
        sets = {k: frozenset(str(v) for v in data.get(k) or ()) for k in CONDITION_KEYS}
        first = data.get("first_reply")
        return cls(**sets, first_reply=None if first is None else bool(first))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: sorted(getattr(self, k)) for k in CONDITION_KEYS}
        out = {k: v for k, v in out.items() if v}
        if self.first_reply is not None:
            out["first_reply"] = self.first_reply
        return out


@dataclass(frozen=True)
class Situation:
    """What is known of the open case and its latest customer message."""

    intent: str | None = None
    category: str | None = None
    emotion: str | None = None
    stage: str | None = None
    profiles: frozenset[str] = field(default_factory=frozenset)
    first_reply: bool = False


def score(conditions: Conditions, situation: Situation) -> float | None:
    """How well a script fits (higher is better), or None when one of its conditions fails."""
    total = 0.0
    single = {
        "intents": situation.intent,
        "categories": situation.category,
        "emotions": situation.emotion,
        "stages": situation.stage,
    }
    for key, value in single.items():
        wanted: frozenset[str] = getattr(conditions, key)
        if not wanted:
            continue
        if value not in wanted:
            return None
        total += WEIGHTS[key]
    if conditions.profiles:
        met = conditions.profiles & situation.profiles
        if not met:
            return None
        total += WEIGHTS["profiles"] * len(met)
    if conditions.first_reply is not None:
        if conditions.first_reply != situation.first_reply:
            return None
        total += 1.0
    return total


def best(
    candidates: Iterable[tuple[T, Conditions, int]], situation: Situation, limit: int
) -> list[tuple[T, float]]:
    """The ``limit`` best fitting candidates ``(item, conditions, tie-break id)``, best first;
    equal scores go to the lower id (the older script) so that suggestions are stable."""
    scored = [
        (item, s, ident)
        for item, conditions, ident in candidates
        if (s := score(conditions, situation)) is not None
    ]
    scored.sort(key=lambda row: (-row[1], row[2]))
    return [(item, s) for item, s, _ in scored[:limit]]
