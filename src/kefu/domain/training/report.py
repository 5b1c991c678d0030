"""The score card of a training session: the same criteria as the quality review of a real
conversation (``domain.qa``: greeting, closing, empathy, courtesy, jargon, commitments, privacy,
emotion trend; the ones a simulation has no facts for — response times, the complaint loop, the
survey — do not apply), the scenario's goals met or not, and the replies that cost the trainee
(they drew blame, no-empathy, vague or jargon reactions, or the threat) with a better reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kefu.domain.qa.conversation import AGENT, CUSTOMER, Conversation, Found, Turn
from kefu.domain.qa.criteria import CriterionResult
from kefu.domain.qa.review import UNREST, review
from kefu.domain.qa.scorecard import Score, Scorecard, score
from kefu.domain.training.scenario import TRYING, Scenario

TRAINEE = "trainee"
_T0 = datetime(2026, 1, 1, tzinfo=UTC)  # a simulation has no clock: turns a minute apart
COSTLY = frozenset({*TRYING, "patience_out"})
GOAL_REACTIONS = {"facts": "question", "solution": "solution", "close": "closing"}


@dataclass(frozen=True)
class PlayedTurn:
    role: str  # "customer" or TRAINEE
    text: str
    state: str | None = None  # the state it was said in
    emotion: str | None = None  # the customer's, after a customer turn
    reaction: str | None = None  # a trainee turn: the reaction it drew
    findings: tuple[Found, ...] = ()


@dataclass(frozen=True)
class Coaching:
    turn: int  # index in the session's turns
    reaction: str
    better: str | None  # the scenario's model reply at that point


@dataclass(frozen=True)
class Report:
    outcome: str
    results: list[CriterionResult]
    score: Score
    goals: dict[str, bool]
    coaching: list[Coaching]
    advisory: tuple[str, ...] = ()  # criteria the scorecard shows without weighing them

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "results": [r.to_json() for r in self.results],
            "total": self.score.total,
            "failed_critical": [c.value for c in self.score.failed_critical],
            "goals": self.goals,
            "advisory": list(self.advisory),
            "coaching": [
                {"turn": c.turn, "reaction": c.reaction, "better": c.better} for c in self.coaching
            ],
        }


def report(
    scenario: Scenario, turns: Sequence[PlayedTurn], outcome: str, scorecard: Scorecard
) -> Report:
    conversation = Conversation(
        turns=tuple(
            Turn(
                AGENT if t.role == TRAINEE else CUSTOMER,
                t.text,
                _T0 + timedelta(minutes=i),
                emotion=t.emotion,
                findings=t.findings,
            )  # fmt: skip
            for i, t in enumerate(turns)
        )
    )
    results = review(conversation)
    reactions = [t.reaction for t in turns if t.role == TRAINEE]
    feelings = [t.emotion for t in turns if t.role == CUSTOMER and t.emotion]
    calmer = bool(feelings) and UNREST.get(feelings[-1], 1) < UNREST.get(feelings[0], 1)
    goals = {"calm": calmer or (bool(feelings) and UNREST.get(feelings[-1], 1) <= 1)}
    goals |= {goal: wanted in reactions for goal, wanted in GOAL_REACTIONS.items()}
    goals = {g.id: goals.get(g.id, False) for g in scenario.goals}
    coaching = [
        Coaching(i, t.reaction, scenario.state(t.state).model_reply if t.state else None)
        for i, t in enumerate(turns)
        if t.role == TRAINEE and t.reaction in COSTLY
    ]
    advisory = tuple(c.value for c, w in scorecard.weighings.items() if w.advisory)
    return Report(outcome, results, score(results, scorecard), goals, coaching, advisory)
