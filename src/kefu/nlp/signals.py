"""Dense signals: a few numbers about a message that n-grams see badly.

Loudness (!!!, ？？？, capitals), emoji, whether it asks something, whether the crisis
rules or the priority cues fired, and its length. Each is a pure function of the
``Reading`` scaled to [0, 1]; a head lists the names it was trained with, so adding a
signal here never changes a shipped model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kefu.nlp.cues import find_cue_spans
from kefu.nlp.normalise import Normalised, normalise
from kefu.nlp.risks import RiskHit, find_risks

_QUESTION_END = re.compile(r"(?:[?？]|吗|呢|么|没有|不|嘛)[\s!.。~～]*$")
_QUESTION_WORD = re.compile(r"怎么|如何|为什么|为啥|什么|多久|多少|几天|哪|能不能|可不可以|可以吗|是否|有没有|请问")


@dataclass(frozen=True)
class Reading:
    """What the rules read out of one message before any model runs."""

    normalised: Normalised
    risks: tuple[RiskHit, ...]
    cue_spans: dict[str, tuple[int, int]]

    @property
    def text(self) -> str:
        return self.normalised.text


def read(text: str) -> Reading:
    """Normalise a message and run the crisis rules and the priority cues on it."""
    normalised = normalise(text)
    return Reading(normalised, tuple(find_risks(normalised.text)), find_cue_spans(normalised.text))


def _capped(count: int, cap: int = 3) -> float:
    return min(count, cap) / cap


def _emoji(name: str) -> Callable[[Reading], float]:
    return lambda r: _capped(r.normalised.emoji.count(name))


def _cue(name: str) -> Callable[[Reading], float]:
    return lambda r: 1.0 if name in r.cue_spans else 0.0


SIGNALS: dict[str, Callable[[Reading], float]] = {
    "exclamations": lambda r: _capped(r.normalised.exclamation_runs),
    "questions": lambda r: _capped(r.normalised.question_runs),
    "shouted": lambda r: _capped(r.normalised.shouted_words),
    "emoji_angry": _emoji("angry"),
    "emoji_sad": _emoji("sad"),
    "emoji_anxious": _emoji("anxious"),
    "emoji_pleading": _emoji("pleading"),
    "emoji_contempt": _emoji("contempt"),
    "emoji_positive": _emoji("positive"),
    "asks": lambda r: 1.0 if _QUESTION_END.search(r.text) else 0.0,
    "question_word": lambda r: 1.0 if _QUESTION_WORD.search(r.text) else 0.0,
    "risk": lambda r: 1.0 if r.risks else 0.0,
    "money_lost": _cue("money_lost"),
    "repeat_contact": _cue("repeat_contact"),
    "deadline": _cue("deadline"),
    "length": lambda r: min(len(r.text), 200) / 200,
}


def signal_values(reading: Reading, names: tuple[str, ...]) -> dict[str, float]:
    return {name: SIGNALS[name](reading) for name in names}


def signal_matrix(readings: list[Reading], names: tuple[str, ...]) -> np.ndarray:
    functions = [SIGNALS[name] for name in names]
    return np.array([[f(r) for f in functions] for r in readings], np.float32).reshape(len(readings), len(names))
