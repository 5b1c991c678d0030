"""The simulated customer (模拟客户): given the trainee's reply as signals, the customer's next
line, state and emotion.

Which reaction a reply gets, when it shows several signals: the first in ``PRECEDENCE`` that
the current state has a reaction for, else ``other``. Faults come first, because one blaming
sentence spoils an apology around it and an upset customer hears a solution only after being
heard; then the substance (solution, question), then the close, and acknowledgement last.

Emotion moves along a ladder of intensity: satisfied → neutral → the persona's hurt
(anxious or disappointed) → angry. Each trying reply (``TRYING``) costs one point of patience;
at zero the customer makes the scenario's ``patience_out`` threat (once) and turns angry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kefu.domain.training.scenario import TRYING, Scenario, State
from kefu.domain.triage_labels import Emotion

PRECEDENCE = (
    "blame",
    "no_empathy",
    "vague",
    "jargon",
    "solution",
    "question",
    "closing",
    "empathy",
)


@dataclass(frozen=True)
class Progress:
    """Where a session stands: the state, the customer's emotion and patience left."""

    state: str
    emotion: Emotion
    patience: int
    threatened: bool = False
    outcome: str | None = None  # resolved | escalated once ended

    @property
    def ended(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True)
class Step:
    customer_line: str
    reaction: str  # which reaction answered the reply (``patience_out`` for the threat)
    progress: Progress

    @property
    def ended(self) -> bool:
        return self.progress.ended


def begin(scenario: Scenario) -> Progress:
    """The session at the customer's opening message."""
    return Progress(
        state=scenario.start,
        emotion=scenario.persona.emotion,
        patience=scenario.persona.patience,
    )


def choose_reaction(state: State, signals: frozenset[str]) -> str:
    """The reaction ``state`` gives a reply with ``signals`` (see PRECEDENCE)."""
    for name in PRECEDENCE:
        if name in signals and name in state.reactions:
            return name
    return "other"


def step(scenario: Scenario, progress: Progress, signals: frozenset[str]) -> Step:
    """The customer's answer to one reply. Precondition: the session has not ended."""
    if progress.ended:
        raise ValueError("the session has already ended")
    state = scenario.state(progress.state)
    name = choose_reaction(state, signals)
    reaction = state.reactions[name]
    patience = progress.patience - (1 if name in TRYING else 0)
    if patience <= 0 and not progress.threatened:
        reaction, name = scenario.patience_out, "patience_out"
        emotion = Emotion.ANGRY
    else:
        emotion = move_emotion(progress.emotion, reaction.emotion, scenario.persona.emotion)
    following = scenario.state(reaction.next)
    progress = replace(
        progress,
        state=following.id,
        emotion=emotion,
        patience=max(patience, 0),
        threatened=progress.threatened or name == "patience_out",
        outcome=following.end,
    )
    return Step(customer_line=reaction.say, reaction=name, progress=progress)


def move_emotion(current: Emotion, change: str, opening: Emotion) -> Emotion:
    """One step up or down the ladder, or the label ``change`` names."""
    if change not in ("rise", "fall", "same"):
        return Emotion(change)
    ladder = emotion_ladder(opening)
    at = ladder.index(current) if current in ladder else 2
    if change == "rise":
        at = min(at + 1, len(ladder) - 1)
    elif change == "fall":
        at = max(at - 1, 0)
    return ladder[at]


def emotion_ladder(opening: Emotion) -> tuple[Emotion, ...]:
    hurt = opening if opening in (Emotion.ANXIOUS, Emotion.DISAPPOINTED) else Emotion.DISAPPOINTED
    return (Emotion.SATISFIED, Emotion.NEUTRAL, hurt, Emotion.ANGRY)
