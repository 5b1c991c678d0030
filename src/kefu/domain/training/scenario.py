"""A role-play scenario as the trainer runs it: a persona, goals, and states whose reactions
say what the simulated customer answers to each kind of reply.

A state either ends the session (``end``: resolved or escalated) or holds ``reactions``, one
per kind of reply it distinguishes, and always ``other`` for a reply that shows none of them.
``patience_out`` is what the customer says when their patience runs out: the crisis threat.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.domain.triage_labels import Emotion

# The kinds of reply the customer reacts to (reading.py detects them in the trainee's reply).
REACTIONS = (
    "blame",  # blame-shifting, dismissive, impolite or a bare refusal
    "no_empathy",  # the customer is upset and the reply does not acknowledge it
    "vague",  # a promise with no time, or one nobody can keep
    "jargon",  # words the customer does not understand
    "solution",  # a concrete next step with a time
    "question",  # asks the customer for the facts
    "closing",  # checks the customer is satisfied and closes politely
    "empathy",  # acknowledges the feeling or apologises
    "other",  # none of the above: every state that does not end must have it
)
ENDINGS = ("resolved", "escalated")
EMOTION_CHANGES = ("rise", "fall", "same")
# Replies that try the customer's patience (one point each).
TRYING = frozenset({"blame", "no_empathy", "vague", "jargon"})


@dataclass(frozen=True)
class Persona:
    name: str
    emotion: Emotion  # at the opening
    patience: int  # 1–5: how many trying replies before the threat


@dataclass(frozen=True)
class Goal:
    id: str
    text: str


@dataclass(frozen=True)
class Reaction:
    say: str  # the customer's next message
    next: str  # the state it moves to
    emotion: str = "same"  # rise | fall | same, or an emotion label to set


@dataclass(frozen=True)
class State:
    id: str
    reactions: dict[str, Reaction]
    end: str | None = None  # resolved | escalated: the session ends on entering it
    model_reply: str | None = None  # a good reply here (示范回复), for coaching and tests


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    industry: str
    channel: str
    case_type: str
    persona: Persona
    goals: tuple[Goal, ...]
    opening: str
    start: str
    patience_out: Reaction
    states: dict[str, State]

    def state(self, state_id: str) -> State:
        return self.states[state_id]
