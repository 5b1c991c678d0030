"""The middle of a synthetic conversation: follow-ups and answers combined from fragments.

The demo's scenarios (data/scenarios_*.json) hold the opening and the end of each kind of case
in three to six turns; a real case often takes ten. ``Fillers.exchange`` writes one more round —
the customer's follow-up and the agent's answer, sometimes an internal note — by combining the
fragments of ``data/fillers.json`` for the case's category and the customer's mood, so that a
hundred thousand conversations do not repeat the same few hundred sentences. The result is a
template with the scenario's slots ({order}, {product}, …), filled later with the case's facts.

For customers who write traditional characters the fragments are converted once (OpenCC s2t).
Pure: a seeded ``random.Random`` in, templates out.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

import opencc

from kefu.demo.content import SLOTS, Turn

# The customer's closing words follow their mood; the agent's acknowledgement whether they are upset.
CLOSING_MOODS = {"angry": "angry", "anxious": "anxious", "satisfied": "happy"}
UPSET = frozenset({"angry", "anxious", "disappointed"})
NOTE_SHARE = 0.12  # rounds with an internal note after the agent's answer
DETAIL_SHARE = 0.35  # customer lines that add a fact (order number, phone, product)


@dataclass(frozen=True)
class Fragments:
    openers: tuple[str, ...]
    details: tuple[str, ...]
    closers: dict[str, tuple[str, ...]]  # mood -> closers
    customer: dict[str, tuple[str, ...]]  # category -> customer cores
    acks: dict[str, tuple[str, ...]]  # calm | upset -> acknowledgements
    agent: dict[str, tuple[str, ...]]  # category -> agent cores
    followups: tuple[str, ...]
    notes: dict[str, tuple[str, ...]]  # category -> internal notes


class Fillers:
    """Writes extra rounds of conversation for one script (简体 or 繁體)."""

    def __init__(self, fragments: Fragments) -> None:
        self.f = fragments

    def exchange(self, rng: random.Random, category: str | None, emotion: str | None) -> list[Turn]:
        """One round: the customer's line, the agent's answer and, now and then, a note."""
        f = self.f
        topic = category if category in f.customer else "other"
        mood = CLOSING_MOODS.get(emotion or "", "calm")
        customer = rng.choice(f.openers) + rng.choice(f.customer[topic])
        if rng.random() < DETAIL_SHARE:
            customer += rng.choice(f.details)
        customer += rng.choice(f.closers[mood])
        ack = rng.choice(f.acks["upset" if emotion in UPSET else "calm"])
        agent = ack + rng.choice(f.agent[topic]) + rng.choice(f.followups)
        turns = [Turn("customer", (customer,)), Turn("agent", (agent,))]
        notes = f.notes.get(topic)
        if notes and rng.random() < NOTE_SHARE:
            turns.append(Turn("note", (rng.choice(notes),)))
        return turns


@cache
def fillers(script: str = "hans") -> Fillers:
    """The fillers for ``hans`` (simplified) or ``hant`` (traditional), parsed once per process."""
    raw = json.loads(
        (resources.files("kefu.demo") / "data" / "fillers.json").read_text(encoding="utf-8")
    )
    fragments = _parse(raw)
    if script == "hant":
        fragments = _converted(fragments, opencc.OpenCC("s2t").convert)
    return Fillers(fragments)


def _parse(raw: dict[str, Any]) -> Fragments:
    customer, agent = raw["customer"], raw["agent"]
    fragments = Fragments(
        openers=tuple(customer["openers"]),
        details=tuple(customer["details"]),
        closers={k: tuple(v) for k, v in customer["closers"].items()},
        customer={k: tuple(v) for k, v in customer["by_category"].items()},
        acks={k: tuple(v) for k, v in agent["acks"].items()},
        agent={k: tuple(v) for k, v in agent["by_category"].items()},
        followups=tuple(agent["followups"]),
        notes={k: tuple(v) for k, v in raw["notes"].items()},
    )
    for text in _all_texts(fragments):
        used = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
        if not used <= SLOTS:
            raise ValueError(f"fillers.json: unknown slots {sorted(used - SLOTS)} in {text!r}")
    if set(fragments.customer) != set(fragments.agent) or "other" not in fragments.customer:
        raise ValueError("fillers.json: customer and agent lines need the same categories")
    return fragments


def _all_texts(f: Fragments) -> list[str]:
    groups = [f.openers, f.details, f.followups]
    for mapping in (f.closers, f.customer, f.acks, f.agent, f.notes):
        groups.extend(mapping.values())
    return [text for group in groups for text in group]


def _converted(f: Fragments, convert: Any) -> Fragments:
    """The fragments in another script; the slot names are ASCII and survive the conversion."""

    def each(texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(convert(t) for t in texts)

    def mapping(m: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {k: each(v) for k, v in m.items()}

    return Fragments(
        openers=each(f.openers),
        details=each(f.details),
        closers=mapping(f.closers),
        customer=mapping(f.customer),
        acks=mapping(f.acks),
        agent=mapping(f.agent),
        followups=each(f.followups),
        notes=mapping(f.notes),
    )
