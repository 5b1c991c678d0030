"""How fast an agent speaks on the phone: characters per minute of each spoken turn.

The norms (references 000 and 002) ask for about 200 字/分钟 on simple questions and for a
slower pace — 120 to 150 — when explaining something complex. kefu flags an agent turn above
200 characters per minute on a simple call and above 150 on a complex one.

Counting: every Chinese character (Han ideographs, also traditional) is one; a word of Latin
letters or digits (``iPhone``, ``15``, ``SO2026``) is one, as it is said as one; punctuation,
spaces and symbols are nothing. The minutes are the turn's own, from its start to its end.

What makes a call complex (``is_complex``), decided from the analysis of the customer's side:
a complaint; a case about refunds and returns, prices and billing, orders and payment, or an
account and privacy; any risk flag (media, regulator, legal, safety, privacy, …); or the phone
system's own topic hint saying "complex" (or 复杂 / technical / 技术). Anything else is simple.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SIMPLE_LIMIT = 200  # characters per minute
COMPLEX_LIMIT = 150
COMPLEX_CATEGORIES = frozenset(
    {"return_refund", "price_billing", "order_payment", "account_privacy"}
)
COMPLEX_HINTS = ("complex", "technical", "复杂", "技术")
MIN_SECONDS = 1.0  # a turn shorter than this is too short to measure (no rate)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_WORD = re.compile(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")


def spoken_units(text: str) -> int:
    """Chinese characters plus Latin words (letters or digits, full-width too) of ``text``."""
    return len(_HAN.findall(text)) + len(_WORD.findall(text))


def is_complex(
    *, intent: str | None, category: str | None, risks: Iterable[str], topic_hint: str | None
) -> bool:
    """Whether a call is about something complex (see the module docstring)."""
    hint = (topic_hint or "").lower()
    return (
        intent == "complaint"
        or category in COMPLEX_CATEGORIES
        or any(True for _ in risks)
        or any(word in hint for word in COMPLEX_HINTS)
    )


@dataclass(frozen=True)
class TurnRate:
    """One agent turn measured: ``rate`` None when the turn is too short to measure."""

    units: int
    seconds: float
    rate: int | None
    limit: int
    fast: bool

    def to_json(self) -> dict[str, int | bool | None]:
        return {"units": self.units, "rate": self.rate, "limit": self.limit, "fast": self.fast}


def measure(text: str, start_s: float, end_s: float, *, complex_topic: bool) -> TurnRate:
    """The speaking rate of one turn of ``text`` said from ``start_s`` to ``end_s``."""
    units = spoken_units(text)
    seconds = max(0.0, end_s - start_s)
    limit = COMPLEX_LIMIT if complex_topic else SIMPLE_LIMIT
    if seconds < MIN_SECONDS or units == 0:
        return TurnRate(units, seconds, None, limit, False)
    rate = round(units * 60 / seconds)
    return TurnRate(units, seconds, rate, limit, rate > limit)


@dataclass(frozen=True)
class CallSummary:
    """A call's agent turns together: the average rate (all their units over all their minutes)
    and how many turns were too fast."""

    turns: int
    measured: int
    average_rate: int | None
    flagged: int
    limit: int | None


def summarize(turns: Sequence[TurnRate]) -> CallSummary:
    measured = [t for t in turns if t.rate is not None]
    seconds = sum(t.seconds for t in measured)
    average = round(sum(t.units for t in measured) * 60 / seconds) if seconds else None
    limit = turns[0].limit if turns else None
    return CallSummary(len(turns), len(measured), average, sum(t.fast for t in turns), limit)
